"""Names judged by the `names` rules of the starter packs: hateful ones flagged once per person,
ordinary ones (thousands of chat authors, and names built to trip a careless rule) left alone."""

import json
from pathlib import Path

import pytest

from vigile.connectors.irc import parse_line
from vigile.connectors.model import ChatMessage, Mark
from vigile.connectors.twitch_events import chat_message, notice_message
from vigile.filters.names import names_of, spelled_out
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage

DATA = Path(__file__).parent / "data" / "names"
QUALITY = Path(__file__).parents[1] / "bench" / "quality"


def listed(name: str) -> list[str]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def chat_authors() -> list[str]:
    """Every author of the labelled chat: real-looking names, none of them chosen to offend."""
    authors = set()
    for path in sorted(QUALITY.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            authors.add(json.loads(line)["author"])
    return sorted(authors)


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(load_starter_packs())


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("kill_yourself_123", "kill yourself 123"),
        ("KillYourself", "Kill Yourself"),
        ("H8TheGays", "H8 The Gays"),
        ("@h4te-squad", "h4te squad"),
        ("kys123", "kys 123"),
        ("n1gg3r", "n1gg3r"),  # one digit is a letter in disguise: it stays
        ("xX_Slayer_Xx", "x X Slayer Xx"),
    ],
)
def test_a_name_is_read_as_the_words_it_is_made_of(name: str, words: str) -> None:
    assert spelled_out(name) == words


def test_ordinary_names_are_never_flagged(triage: Triage) -> None:
    names = sorted(set(chat_authors()) - set(listed("hateful.txt"))) + listed("clean.txt")
    assert len(names) > 3_000
    flagged = {n: sorted(m.rule_id for m in triage.judge_name(n).matches) for n in names}
    assert {n: r for n, r in flagged.items() if r} == {}


def test_hateful_names_are_flagged(triage: Triage) -> None:
    names = listed("hateful.txt")
    missed = [n for n in names if not triage.judge_name(n).flagged]
    assert missed == []
    verdict = triage.judge_name("kill_yourself_123")
    assert verdict.categories == {"threat"} and verdict.action == "ban"
    assert verdict.marks == {Mark.NAME} and "name" in verdict.labels


def privmsg(display: str, login: str, text: str, msg_id: str) -> ChatMessage:
    line = (
        f"@display-name={display};id={msg_id};room-id=1;tmi-sent-ts=1767225600000;user-id=u-{login}"
        f" :{login}!{login}@{login}.tmi.twitch.tv PRIVMSG #lumina :{text}"
    )
    return chat_message(parse_line(line))


def test_display_name_and_login_are_judged_once_on_first_sight(triage: Triage) -> None:
    triage = Triage(load_starter_packs())
    # a harmless display name over a hateful login: the login gives it away
    first = triage.judge(privmsg("Friendly", "kys_lumina", "hello chat", "n-1"))
    assert [(m.rule_id, m.term, m.span) for m in first.matches] == [
        ("names-self-harm-en", "kys_lumina", (0, 0))
    ]
    assert first.marks == {Mark.NAME} and first.priority >= 80
    assert not triage.judge(privmsg("Friendly", "kys_lumina", "hello again", "n-2")).flagged
    # the text is judged as ever beside the name, and a new spelling is judged again
    again = triage.judge(privmsg("KillYourself", "kys_lumina", "you idiot", "n-3"))
    assert "names-self-harm-en" in {m.rule_id for m in again.matches}
    assert not triage.judge(privmsg("Regular_Fan", "regular_fan", "gg", "n-4")).flagged


def test_a_name_two_people_bear_is_reported_for_each() -> None:
    # judged once, remembered by name; reported on each person's first sight
    triage = Triage(load_starter_packs())
    for login, msg_id in (("kys_lumina", "p-1"), ("kys_lumina2", "p-2")):
        verdict = triage.judge(privmsg("KillYourself", login, "hello", msg_id))
        assert ("names-self-harm-en", "KillYourself") in {
            (m.rule_id, m.term) for m in verdict.matches
        }


def test_a_gift_s_recipient_is_judged_too(triage: Triage) -> None:
    line = (
        "@display-name=Kind_Gifter;id=g-1;login=kind_gifter;msg-id=subgift;"
        "msg-param-recipient-display-name=KillYourself_Lumina;msg-param-recipient-id=77;"
        "msg-param-recipient-user-name=killyourself_lumina;room-id=1;"
        r"system-msg=Kind_Gifter\sgifted\sa\sTier\s1\ssub\sto\sKillYourself_Lumina!;"
        "tmi-sent-ts=1767225600000;user-id=55 :tmi.twitch.tv USERNOTICE #lumina"
    )
    gift = notice_message(parse_line(line))
    assert gift is not None and gift.text == ""
    assert names_of(gift) == [
        ("55", "Kind_Gifter"),
        ("77", "KillYourself_Lumina"),
        ("77", "killyourself_lumina"),
    ]
    verdict = Triage(load_starter_packs()).judge(gift)
    assert {m.term for m in verdict.matches} == {"KillYourself_Lumina", "killyourself_lumina"}


def test_no_names_rules_no_names_judged() -> None:
    triage = Triage([p for p in load_starter_packs() if not p.name.startswith(("hate", "threat"))])
    assert not triage.judge(privmsg("kys_now", "kys_now", "hello", "x-1")).flagged
