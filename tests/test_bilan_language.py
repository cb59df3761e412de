"""The bilan reads as a deliverable in each language: no word of the other language, the
language's own punctuation, alerts named by what they were about, platforms as they spell
themselves."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from vigile.connectors.model import ActionKind, ChatMessage, ModAction, PlatformEvent
from vigile.filters.rules import load_starter_packs
from vigile.filters.suggestions import suggestion_pack
from vigile.filters.triage import Triage
from vigile.replay.bilan import write_bilan
from vigile.replay.store import SessionStore

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC

# Words that belong to one language only: none may appear in the other's report.
ENGLISH = {
    "the", "of", "and", "by", "replay", "desk", "me", "flagged", "added", "removed", "rule",
    "rules", "handled", "alerts", "channel", "messages per", "copypasta", "load",
    "start", "hash", "chain", "median", "target", "file", "editor", "this", "response", "times",
}  # fmt: skip
FRENCH = {
    "le", "la", "les", "de", "des", "du", "et", "à", "sur", "rejeu", "poste", "signalés",
    "ajoutée", "ajoutées", "retirée", "règle", "règles", "chaîne", "levée", "objet", "moi",
    "traités", "médiane", "objectif", "fichier", "heures", "éléments", "gravité", "départ",
}  # fmt: skip


class VisibleText(HTMLParser):
    """What a reader sees of the page, without the chat's own words (quoted as they were
    written, in whatever language) nor hashes."""

    SKIP = {"style", "script", "code"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self._skipping or tag in self.SKIP or {"chat", "hash"} & set(classes):
            self._skipping.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def words_of(text: str) -> set[str]:
    singles = set(re.findall(r"[^\W\d_]+", text.lower()))
    return singles | {" ".join(pair) for pair in re.findall(r"(\w+) (\w+)", text.lower())}


@pytest.fixture
async def replayed(tmp_path: Path) -> Path:
    """A replay recorded as the desk records one: named by Vigile in English ("replay of
    raid"), moderated by the desk's default moderator ("me"), with a suggested rule accepted
    ("me (suggestion)"), a raid, a rising hashtag and a copypasta alert."""
    path = tmp_path / "run.db"
    triage = Triage(load_starter_packs(), author="desk", origin="start")
    async with await SessionStore.open(path) as store:
        await store.start_session(
            "replay of raid",
            "replay",
            ["replay:raid"],
            {"replay_of": str(tmp_path / "raid.db"), "speed": 1.0},
            started_at=T0,
        )
        first = triage.history[-1]
        store.add_rule_version(T0, 1, first.author, first.origin, first.digest, first.text)
        chat = [
            ("twitch", "gg wp 🎉"),
            ("youtube", "t'es qu'une salope"),
            ("twitch", "kill yourself"),
            ("youtube", "#BoycottLumina"),
        ]
        for n, (platform, text) in enumerate(chat * 6):
            message = ChatMessage(
                platform, "lumina", f"m{n}", f"a{n % 5}", f"viewer{n % 5}", text, T0 + 10 * n
            )
            store.add_message(message, triage.judge(message))
        store.add_action(
            ModAction(ActionKind.DELETE, "twitch", "lumina", "me", "a2", "m2", requested_at=T0 + 25)
        )
        rule = {"id": "hijacked-boycottlumina", "category": "harassment", "severity": 3}
        rule |= {"hashtags": ["#BoycottLumina"]}
        version = triage.swap(
            [*triage.history[-1].packs, suggestion_pack([rule])], "me (suggestion)", "suggestion"
        )
        store.add_rule_version(
            T0 + 60, 2, version.author, version.origin, version.digest, version.text
        )
        alerts = [
            ("raid", "channel", {"raider": "h8_squad", "viewers": 412, "fresh_authors": 40}),
            ("copypasta", "36", {"messages": 30, "authors": 12, "samples": ["kill yourself"]}),
            ("rising-hashtag", "#boycottlumina", {"messages_60s": 20, "authors": 9}),
        ]
        for n, (kind, subject, evidence) in enumerate(alerts):
            data = {"state": "raised", "severity": 4, "subject": subject, "raised_at": T0 + n}
            event = PlatformEvent("twitch", "lumina", f"alert:{kind}", T0 + 30 + n, data | evidence)
            store.add_event(event)
    return path


@pytest.mark.parametrize(("lang", "foreign"), [("fr", ENGLISH), ("en", FRENCH)])
async def test_no_word_of_the_other_language(replayed: Path, tmp_path: Path, lang, foreign) -> None:
    files = write_bilan(replayed, tmp_path / lang, lang=lang)
    page = visible(files.html.read_text().replace(str(tmp_path), ""))
    found = words_of(page) & foreign
    assert not found, f"{lang} report shows {sorted(found)}"
    markdown = files.markdown.read_text().replace(str(tmp_path), "")
    quoted = {"gg", "wp", "kill", "yourself", "salope", "qu", "une", "t", "es", "boycottlumina"}
    found = words_of(re.sub(r"`[^`]*`", "", markdown)) & foreign - quoted
    assert not found, f"{lang} Markdown shows {sorted(found)}"


async def test_each_language_sets_its_own_punctuation(replayed: Path, tmp_path: Path) -> None:
    fr = write_bilan(replayed, tmp_path / "fr", lang="fr").markdown.read_text()
    en = write_bilan(replayed, tmp_path / "en", lang="en").markdown.read_text()
    assert "Par gravité\u00a0: " in fr and not re.search(r"[^\W\d]:", re.sub(r"`[^`]*`", "", fr))
    assert "By severity: " in en and not re.search(r"\s:", en)


async def test_titles_people_and_rule_changes_are_worded(replayed: Path, tmp_path: Path) -> None:
    fr = write_bilan(replayed, tmp_path / "fr", lang="fr").markdown.read_text()
    en = write_bilan(replayed, tmp_path / "en", lang="en").markdown.read_text()
    assert fr.startswith("# Bilan de modération — rejeu de raid\n")
    assert en.startswith("# Moderation report — replay of raid\n")
    assert "| le poste |" in fr and "| this desk |" in en  # the desk's moderator, "me"
    assert "| le poste (suggestion) |" in fr and "| this desk (suggestion) |" in en
    assert "+ hijacked-boycottlumina (ajoutée)" in fr  # one rule: singular
    assert "+ hijacked-boycottlumina (added)" in en


async def test_alerts_name_what_they_were_about(replayed: Path, tmp_path: Path) -> None:
    md = write_bilan(replayed, tmp_path / "en", lang="en").markdown.read_text()
    cells = [line.split(" | ") for line in md.splitlines() if line.count(" | ") >= 5]
    rows = {row[1]: row[2] for row in cells}
    assert rows["raid"] == "h8\\_squad"
    assert rows["copypasta"] == "kill yourself"
    assert rows["rising hashtag"] == "\\#boycottlumina"
    assert "| channel |" not in md and "| 36 |" not in md


async def test_platforms_are_spelled_as_they_spell_themselves(
    replayed: Path, tmp_path: Path
) -> None:
    files = write_bilan(replayed, tmp_path / "fr", lang="fr")
    page = visible(files.html.read_text())
    assert "YouTube" in page and "Twitch" in page
    assert not re.search(r"\b(youtube|Youtube|twitch)\b", page)
    assert not re.search(r"\| (youtube|twitch) \|", files.markdown.read_text())


async def test_the_rate_chart_of_a_short_session(replayed: Path, tmp_path: Path) -> None:
    from vigile.replay.bilan_charts import ALERT_STYLES

    files = write_bilan(replayed, tmp_path / "en", lang="en")
    svg = re.search(r"<svg.*?</svg>", files.html.read_text(), re.S).group(0)
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    ticks = [t for t in texts if re.fullmatch(r"\d\d:\d\d", t)]
    assert ticks and len(ticks) == len(set(ticks))  # 4 minutes of chat: no "14:13 14:13 …"
    assert "YouTube" in texts and "Youtube" not in texts
    for kind in ("raid", "copypasta", "rising hashtag"):  # each alert kind labelled on the chart
        assert kind in texts
    colours = [colour for colour, _ in ALERT_STYLES.values()]
    assert len(set(colours)) == len(colours)
    assert len({style for _, style in ALERT_STYLES.values()}) == len(ALERT_STYLES)
    assert "Noto Color Emoji" in svg  # the charts' text falls back to an emoji font


async def test_a_session_of_seconds_has_no_repeated_time_labels(
    tmp_path: Path, tiny_session: Path
) -> None:
    files = write_bilan(tiny_session, tmp_path / "fr", lang="fr")  # 7 s of chat
    svg = re.search(r"<svg.*?</svg>", files.html.read_text(), re.S).group(0)
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    ticks = [t for t in texts if re.fullmatch(r"\d\d:\d\d", t)]
    assert 1 <= len(ticks) == len(set(ticks)), ticks
