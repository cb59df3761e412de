"""The start-up cache: built once, read back, and never trusted when it should not be."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from vigile.filters import disk_cache
from vigile.filters.matcher import CompiledRules, compile_rules
from vigile.filters.rules import load_starter_packs, parse_pack


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VIGILE_CACHE_DIR", str(folder))
    return folder


def test_a_compiled_pack_is_read_back_and_judges_the_same(cache: Path) -> None:
    packs = load_starter_packs()
    built = compile_rules(packs, version=3)
    assert len(list(cache.glob("rules-*.pickle"))) == 1
    read = compile_rules(packs, version=4)
    assert read is not built and read.version == 4 and built.version == 3
    for text in ("kill yourself", "t'es une s4l0pe", "what a lovely stream", "@kev ur so ugly"):
        assert [m.rule_id for m in read.match(text)] == [m.rule_id for m in built.match(text)]


def test_an_edited_pack_is_compiled_again(cache: Path) -> None:
    first = parse_pack('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["acme"]\n', "p.toml")
    second = parse_pack('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["zorg"]\n', "p.toml")
    assert compile_rules([first]).match("acme deals")
    edited = compile_rules([second])
    assert edited.match("zorg deals") and not edited.match("acme deals")


def test_a_damaged_file_is_rebuilt_not_an_error(cache: Path) -> None:
    packs = load_starter_packs()
    compile_rules(packs)
    (stored,) = cache.glob("rules-*.pickle")
    stored.write_bytes(b"\x80\x05 not a pickle")
    assert compile_rules(packs).match("kill yourself")
    assert isinstance(pickle.loads(stored.read_bytes()), CompiledRules)  # written again


def test_a_file_others_could_write_is_never_loaded(cache: Path) -> None:
    disk_cache.store("probe", "k", {"safe": True})
    (stored,) = cache.glob("probe-*.pickle")
    assert disk_cache.load("probe", "k") == {"safe": True}
    os.chmod(stored, 0o666)
    assert disk_cache.load("probe", "k") is None
    os.chmod(stored, 0o600)
    os.chmod(cache, 0o777)
    assert disk_cache.load("probe", "k") is None


def test_an_unwritable_folder_means_no_cache_not_an_error(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("VIGILE_CACHE_DIR", str(blocker / "cache"))
    disk_cache.store("probe", "k", [1, 2])
    assert disk_cache.load("probe", "k") is None
    assert compile_rules(load_starter_packs()).match("kill yourself")


def test_a_pack_file_is_parsed_once_and_an_edit_is_read_again(cache: Path, tmp_path: Path) -> None:
    from vigile.filters.rules import RulePackError, load_pack

    path = tmp_path / "mine.toml"
    path.write_text('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["acme"]\n')
    first = load_pack(path)
    assert load_pack(path) == first and len(list(cache.glob("pack-*.pickle"))) == 1
    path.write_text('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["zorg"]\n')
    assert load_pack(path).rules[0].terms == ("zorg",)
    path.write_text('[[rules]]\nid = "a"\ncategory = "spam"\naction = "explode"\nterms = ["x"]\n')
    with pytest.raises(RulePackError, match="unknown action"):
        load_pack(path)


@pytest.fixture
def fresh_tables(cache: Path):
    from vigile.filters import lexicon

    remembered = (lexicon.tables, lexicon.frequency, lexicon.is_word, lexicon.is_real_word)
    for function in remembered:
        function.cache_clear()
    yield lexicon
    for function in remembered:
        function.cache_clear()


def test_the_word_tables_answer_as_wordfreq_lists_say(fresh_tables) -> None:
    lexicon = fresh_tables
    zipf, listed, accented = lexicon._build_tables()  # the lists as dictionaries: what it must say
    written, with_accents = set(listed), set(accented)
    words = set(zipf["fr"]) | set(zipf["en"])
    assert len(words) > 150_000 and len(written) > 40_000
    for word in sorted(words) + ["", "zzqxv", "\ud800", "bamboozles", "retard", "Été"]:
        levels = {lang: zipf[lang].get(word, 0) for lang in lexicon.LANGUAGES}
        most = max(levels.values())
        assert lexicon.is_real_word(word) is (most >= 300), word
        assert lexicon._any_word(word) is (word.isalpha() and word in words), word
        assert lexicon.common_in(word) == {lang for lang, n in levels.items() if n >= 330}, word
        reached = [z for z in lexicon._LEVELS if most >= round(z * 100)]
        assert lexicon.frequency(word) == (10 ** reached[-1] if reached else 1.0), word
        assert lexicon.is_written_word(word) is (word in written), word
        assert lexicon.is_word_as_typed(word, "é") is (word in with_accents), word
    assert all(lexicon.is_written_word(w) for w in written) and "député" in written


def test_damaged_word_tables_are_rebuilt_with_the_same_answers(fresh_tables, cache: Path) -> None:
    lexicon = fresh_tables
    probes = ["computer", "canard", "retard", "niga", "député", "bamboozles", "tyrannies"]
    before = [(lexicon.is_word(w), lexicon.common_in(w), lexicon.frequency(w)) for w in probes]
    (stored,) = cache.glob("lexicon-*.bin")
    good = stored.read_bytes()
    for damage in (good[: len(good) // 2], good[:100] + b"\0" * 8 + good[108:], b"junk"):
        stored.write_bytes(damage)
        for function in (lexicon.tables, lexicon.frequency, lexicon.is_word):
            function.cache_clear()
        after = [(lexicon.is_word(w), lexicon.common_in(w), lexicon.frequency(w)) for w in probes]
        assert after == before
        assert stored.read_bytes() == good  # written again, whole
    assert disk_cache.load_blobs("lexicon", stored.stem.split("-", 1)[1]) is not None


def test_two_versions_started_in_turn_keep_each_its_own_build(cache: Path) -> None:
    """Word tables of two versions (different keys): both stay; a third build evicts the
    oldest."""

    def build(key: str) -> None:
        for earlier in cache.glob("probe-*"):  # older than this one, whatever the clock's grain
            os.utime(earlier, ns=(earlier.stat().st_mtime_ns - 10**9,) * 2)
        disk_cache.store_blobs("probe", key, [key.encode()])

    build("old")
    build("new")
    assert disk_cache.load_blobs("probe", "old") == [b"old"]
    assert disk_cache.load_blobs("probe", "new") == [b"new"]
    build("newer")
    assert disk_cache.load_blobs("probe", "old") is None
    assert disk_cache.load_blobs("probe", "new") == [b"new"]


def test_blobs_are_read_back_only_when_whole_and_private(cache: Path) -> None:
    disk_cache.store_blobs("probe", "k", [b"trie", b"", b"levels" * 1000])
    assert disk_cache.load_blobs("probe", "k") == [b"trie", b"", b"levels" * 1000]
    (stored,) = cache.glob("probe-*.bin")
    data = stored.read_bytes()
    stored.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped
    assert disk_cache.load_blobs("probe", "k") is None
    stored.write_bytes(data)
    os.chmod(stored, 0o644 | 0o022)
    assert disk_cache.load_blobs("probe", "k") is None


def test_rules_and_terms_come_back_equal_from_the_cache(cache: Path) -> None:
    packs = load_starter_packs()
    built = CompiledRules(packs)
    disk_cache.store("probe", "k", built)
    read = disk_cache.load("probe", "k")
    memories = {"_tokens", "_memo", "_candidates", "_regexes"}
    assert read.__dict__.keys() == built.__dict__.keys()
    for name in built.__dict__.keys() - memories:  # every index, word sets included
        assert getattr(read, name) == getattr(built, name), name
    assert [(r, h) for _, r, h in read._regexes] == [(r, h) for _, r, h in built._regexes]
    assert {type(t).__name__ for terms in read._single.values() for t in terms} == {"Term"}
    # a phrase listed under its joined-up spelling is the very pattern of the list
    listed = {id(p) for p in read._patterns}
    assert all(id(p) in listed for found in read._squashed.values() for p in found)
    assert read._squashed and read._joinable


def test_a_lasting_triage_is_kept_out_of_collections_until_an_edit(cache: Path) -> None:
    import gc

    from vigile.filters.check import lasting_triage

    try:
        triage = lasting_triage(load_starter_packs(), author="cli", origin="file")
        assert gc.isenabled() and gc.get_freeze_count() > 10_000  # the rules, the word tables
        assert triage.judge_text("kill yourself").flagged
        triage.swap(load_starter_packs(), author="cli", origin="edit")
        assert gc.get_freeze_count() == 0  # the replaced rules can be collected
        assert triage.judge_text("kill yourself").flagged
    finally:
        gc.unfreeze()
