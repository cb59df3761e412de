from hypothesis import given
from hypothesis import strategies as st

from vigile.filters.normalize import normalize


@given(st.text(max_size=200))
def test_offsets_always_map_back_inside_the_original(text: str) -> None:
    norm = normalize(text)
    if norm.offsets is None:  # the identity map: one character for one
        assert len(norm.text) == len(text)
        return
    assert len(norm.offsets) == len(norm.text)
    assert all(0 <= o < len(text) for o in norm.offsets)
    assert list(norm.offsets) == sorted(norm.offsets)


@given(st.text(max_size=200), st.data())
def test_any_span_maps_to_a_valid_original_span(text: str, data: st.DataObject) -> None:
    norm = normalize(text)
    start = data.draw(st.integers(0, len(norm.text)))
    end = data.draw(st.integers(start, len(norm.text)))
    o_start, o_end = norm.original_span(start, end)
    assert 0 <= o_start <= o_end <= len(text)


@given(st.text(max_size=200))
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once


def test_folding_examples() -> None:
    assert normalize("ÉCOLE").text == "ecole"
    assert normalize("Ｓａｌｕｔ").text == "salut"
    assert normalize("a\u200bb\u200dc\u2066d").text == "abcd"
    assert normalize("Straße").text == "strasse"
    norm = normalize("Çà")
    assert norm.text == "ca" and norm.original_span(0, 2) == (0, 2)
