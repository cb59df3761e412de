"""The bilan: figures equal to the database's, rehearsal scoring, wording, hostile text."""

import json
import re
import sqlite3
from pathlib import Path

import pytest

from tests.helpers import SIZE, wait_for
from vigile.connectors.model import (
    ActionKind,
    ChatMessage,
    Match,
    ModAction,
    PlatformEvent,
    Verdict,
)
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.bilan import BilanError, markdown_text, write_bilan
from vigile.replay.bilan_words import Wording
from vigile.replay.evidence import export_dossier
from vigile.replay.pipeline import SessionPlan
from vigile.replay.player import ReplaySource
from vigile.replay.scoring import score_run
from vigile.replay.store import Label, SessionStore
from vigile.tui.app import VigileApp
from vigile.tui.cli import main
from vigile.tui.widgets.priority_pane import PriorityPane

T0 = 1_790_000_000.0  # 2026-09-21 14:13:20 UTC


async def rehearse(tmp_path: Path, source: Path, keys: list[str]) -> Path:
    """The real desk replaying `source` as fast as it can while a moderator presses `keys` on
    the priority pane, one key per item at its top."""
    run = tmp_path / "rehearsal.db"
    plan = SessionPlan(
        "rehearsal",
        "rehearsal",
        [ReplaySource(source, speed=None)],
        run,
        {"replay_of": str(source)},
    )
    app = VigileApp(plan, Triage(load_starter_packs()), moderator="alice")
    total = sql(source, "SELECT count(*) FROM messages")[0][0]
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(PriorityPane)
        # the whole recording first: then the queue only changes when the moderator acts
        await wait_for(pilot, lambda: app.pipeline and app.pipeline.stats.messages == total)
        await wait_for(pilot, lambda: app.caught_up)  # a loaded machine draws late
        pane.focus()
        for key in keys:
            top = pane.selected()
            await pilot.press(key)
            await wait_for(pilot, lambda top=top: top.key not in pane.items)
        await pilot.pause(0.5)
        await pilot.press("q")
    return run


def sql(path: Path, query: str, *params):
    with sqlite3.connect(path) as db:
        return db.execute(query, params).fetchall()


async def test_the_json_totals_equal_the_database_s(tmp_path, tiny_session) -> None:
    run = await rehearse(tmp_path, tiny_session, ["x", "d", "x", "b", "d"])
    files = write_bilan(run, tmp_path / "bilan", lang="en")
    f = json.loads(files.json.read_text())

    assert f["event"]["messages"] == sql(run, "SELECT count(*) FROM messages")[0][0]
    assert f["event"]["messages_by_platform"] == dict(
        sql(run, "SELECT platform, count(*) FROM messages GROUP BY 1")
    )
    assert (
        f["event"]["unique_authors"]
        == sql(run, "SELECT count(DISTINCT platform || ':' || author_id) FROM messages")[0][0]
    )
    assert (
        sum(sum(c) for c in f["series"]["messages_by_platform"].values())
        == (f["event"]["messages"])
    )
    m = f["moderation"]
    assert m["flagged"] == sql(run, "SELECT count(*) FROM verdicts")[0][0] > 0
    assert sum(f["series"]["flagged"]) == m["flagged"]
    assert m["flagged_by_category"] == dict(
        sql(
            run,
            """
        SELECT json_extract(j.value, '$.category'), count(DISTINCT v.message_seq)
        FROM verdicts v, json_each(v.matches) j GROUP BY 1""",
        )
    )
    assert m["actions_by_kind"] == dict(sql(run, "SELECT kind, count(*) FROM actions GROUP BY 1"))
    # a cluster row at the top of the queue is acted on as a whole: at least one per key
    assert m["actions_by_kind"]["dismiss"] >= 2 and m["actions_by_kind"]["delete"] >= 2
    assert m["actions_by_moderator"] == {"alice": m["actions_by_kind"]}
    assert m["handled"] + m["unhandled"] + m["removed_by_platform"] == m["flagged"]
    # deletions and dismissals target one message each: their waits, straight from SQL
    waits = sorted(
        w
        for (w,) in sql(
            run,
            """
        SELECT a.ts - m.received_at FROM actions a JOIN messages m
        ON m.platform = a.platform AND m.msg_id = a.target_message_id
        WHERE a.kind IN ('delete', 'dismiss')""",
        )
    )
    assert len(waits) >= 4 and all(w < 30 for w in waits)
    assert m["response_times"]["count"] >= len(waits)
    alerts = sql(
        run,
        """SELECT count(DISTINCT kind || json_extract(data, '$.subject')
           || json_extract(data, '$.raised_at')) FROM events WHERE kind LIKE 'alert:%'""",
    )
    assert len(f["threats"]["alerts"]) == alerts[0][0] > 0
    assert len(f["filters"]["versions"]) == sql(run, "SELECT count(*) FROM rule_versions")[0][0]

    manifest = export_dossier(run, tmp_path / "dossier").manifest
    assert f["evidence"]["export_holds"] == manifest["messages_exported"]
    assert f["evidence"]["chain_head"] == manifest["chain_head"] and f["evidence"]["intact"]

    rehearsal = f["rehearsal"]
    assert rehearsal["scenario_file"] == tiny_session.name
    assert rehearsal["labelled"] == sql(tiny_session, "SELECT count(*) FROM labels")[0][0]
    assert rehearsal["triage"] == score_run(tiny_session, run).as_dict()
    assert rehearsal["caught"] >= 3  # two deletions and a ban, all on flagged messages
    assert rehearsal["caught"] + rehearsal["missed"] == rehearsal["should_act"]
    html = files.html.read_text()
    assert html.count("<svg") == 3 and "Rehearsal: the team" in html


async def crafted_rehearsal(tmp_path: Path) -> tuple[Path, Path]:
    """A labelled source of 12 messages and a run of it with known actions and a rule edit."""
    source, run = tmp_path / "source.db", tmp_path / "run.db"
    texts = [(f"m{i}", f"u{i % 4}", i % 4 != 0) for i in range(12)]  # u0 is the only clean one
    async with await SessionStore.open(source) as store:
        await store.start_session("scripted", "scenario", ["twitch:chan"])
        for msg_id, author, abusive in texts:
            message = ChatMessage("twitch", "chan", msg_id, author, author, "x", sent_at=T0)
            store.add_message(message, label=Label(should_flag=abusive, category="sexism"))
    packs = load_starter_packs()
    async with await SessionStore.open(run) as store:
        await store.start_session(
            "rehearsal", "rehearsal", ["replay:source.db"], {"replay_of": str(source)}
        )
        first = Triage(packs).history[-1]
        store.add_rule_version(T0, 1, "file", "file", first.digest, first.text)
        added = (
            first.text + '\n[[rules]]\nid = "hijacked-tag"\ncategory = "harassment"\n'
            'severity = 3\naction = "review"\nhashtags = ["#tag"]\n'
        )
        store.add_rule_version(T0 + 30, 2, "sup", "editor", "d2", added)
        for i, (msg_id, author, abusive) in enumerate(texts):
            at = T0 + i * 10
            message = ChatMessage(
                "twitch", "chan", msg_id, author, author, "x", sent_at=at, received_at=at
            )
            rule = "hijacked-tag" if i >= 4 else "sexism-en"
            verdict = Verdict(
                matches=(Match(rule, "sexism", 4, (0, 1), "exact"),),
                priority=60,
                action="hide",
                rules_version=1 + (i >= 4),
            )
            store.add_message(message, verdict if abusive else None)
        act = [
            (ActionKind.DELETE, "m1", "u1", 15),
            (ActionKind.DELETE, "m2", "u2", 120),
            (ActionKind.BAN, None, "u3", 75),  # covers m3 and m7, said before; not m11
            (ActionKind.DELETE, "m4", "u0", 45),  # u0 said nothing wrong: a false action
            (ActionKind.DISMISS, "m5", "u1", 52),
        ]
        for kind, msg_id, author, at in act:
            store.add_action(
                ModAction(kind, "twitch", "chan", "alice", author, msg_id, requested_at=T0 + at)
            )
        store.add_event(
            PlatformEvent(
                "twitch",
                "chan",
                "alert:rising-hashtag",
                T0 + 20,
                {
                    "state": "raised",
                    "subject": "#tag",
                    "authors": 3,
                    "raised_at": T0 + 20,
                    "severity": 3,
                },
            )
        )
    return source, run


async def test_a_rehearsal_scores_the_team_against_the_labels(tmp_path) -> None:
    _, run = await crafted_rehearsal(tmp_path)
    f = write_bilan(run, tmp_path / "out", lang="en").figures
    r = f["rehearsal"]
    assert (r["labelled"], r["should_act"]) == (12, 9)
    # caught: m1, m2 deleted, m3 and m7 banned with their author; a dismissal catches nothing
    assert (r["caught"], r["missed"], r["false_actions"]) == (4, 5, 1)
    assert r["false_action_samples"][0]["message_id"] == "m4"
    assert r["time_to_act"]["median_s"] == 25.0  # 5, 5, 45 and 100 s
    assert r["triage"]["flag_precision"] == 1.0 and r["triage"]["flag_recall"] == 1.0

    (change,) = f["filters"]["versions"][1:]
    assert change["added"] == ["hijacked-tag"] and change["author"] == "sup"
    assert change["caught_after"] == 6  # m5, m6, m7, m9, m10, m11
    (tag,) = f["threats"]["hijacked_hashtags"]
    assert (tag["hashtag"], tag["rule_version"]) == ("#tag", 2)
    m = f["moderation"]
    assert m["handled"] == 5 and m["response_times"]["median_s"] == 5.0  # m5 dismissed after 2 s
    assert m["response_times"]["within_target_share"] == 1.0
    assert m["actions_by_kind"] == {"delete": 3, "ban": 1, "dismiss": 1}


async def test_chat_text_stays_inert_in_every_form(tmp_path) -> None:
    db = tmp_path / "hostile.db"
    name = '<img src=x onerror="fetch(`//evil`)">|[bold red]'
    text = "<script>alert(1)</script> \x1b[2J salope \u202egnp.exe | ## hi"
    async with await SessionStore.open(db) as store:
        await store.start_session("<b>event</b>", "live", ["twitch:chan"])
        for i in range(3):
            m = ChatMessage("twitch", "chan", f"m{i}", "evil", name, text, sent_at=T0 + i)
            store.add_message(m, Triage(load_starter_packs()).judge(m))
        store.add_event(
            PlatformEvent(
                "twitch",
                "chan",
                "alert:copypasta",
                T0 + 2,
                {"state": "raised", "subject": "1", "messages": 3, "authors": 1, "samples": [text]},
            )
        )
    files = write_bilan(db, tmp_path / "out", lang="fr")
    html, md = files.html.read_text(), files.markdown.read_text()
    assert "<script" not in html and "<img" not in html and "<b>event" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert "\x1b" not in html + md and "\u202e" not in html + md
    assert "␛[2J" in html and "␛\\[2J" in md
    assert "\\<script\\>" in md and "\\|\\[bold red\\]" in md  # no cell breaks, no markup
    assert "Content-Security-Policy" in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html)  # nothing to fetch


def test_markdown_cells_cannot_break_the_table() -> None:
    assert markdown_text("a | b\nc *d* [e](f)") == "a \\| b c \\*d\\* \\[e\\](f)"


def test_numbers_and_dates_follow_the_language() -> None:
    fr, en = Wording("fr"), Wording("en")
    assert fr.number(12511) == "12\u202f511" and en.number(12511) == "12,511"
    assert fr.percent(0.183) == "18,3\u00a0%" and en.percent(0.183) == "18.3%"
    assert fr.datetime(T0) == "21 sept. 2026, 14:13:20"
    assert en.datetime(T0) == "21 Sept 2026, 14:13:20"
    assert fr.duration(3725) == "1 h 02 min 05 s" and en.duration(4.25) == "4.2 s"
    assert (fr.category("lgbtphobia"), en.kind("flood")) == ("LGBTphobie", "flood")
    with pytest.raises(ValueError, match="fr or en"):
        Wording("de")


async def test_the_report_is_worded_in_the_chosen_language(tmp_path) -> None:
    _, run = await crafted_rehearsal(tmp_path)
    fr = write_bilan(run, tmp_path / "fr", lang="fr", tz="Europe/Paris")
    en = write_bilan(run, tmp_path / "en", lang="en", tz="Europe/Paris")
    assert (
        '<html lang="fr">' in fr.html.read_text() and "Bilan de modération" in fr.html.read_text()
    )
    assert "Moderation report" in en.markdown.read_text()
    assert "Heures en Europe/Paris" in fr.markdown.read_text()
    assert "21 sept. 2026, 16:13:20" in fr.markdown.read_text()  # 14:13 UTC is 16:13 in Paris
    assert (
        json.loads(fr.json.read_text())["moderation"]
        == json.loads(en.json.read_text())["moderation"]
    )


def test_the_command_writes_three_files_and_refuses_bad_input(tmp_path, capsys) -> None:
    assert main(["bilan", str(tmp_path / "nope.db"), "--out", str(tmp_path / "o")]) == 2
    assert "nope.db: no such file" in capsys.readouterr().err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert main(["bilan", str(junk), "--out", str(tmp_path / "o")]) == 2
    assert "junk.db: is not a Vigile file" in capsys.readouterr().err
    with pytest.raises(BilanError, match="unknown time zone"):
        write_bilan(junk, tmp_path / "o", tz="Mars/Olympus")


async def test_the_command_prints_a_summary_and_flags_a_broken_chain(tmp_path, capsys) -> None:
    _, run = await crafted_rehearsal(tmp_path)
    out = tmp_path / "out"
    assert main(["bilan", str(run), "--out", str(out), "--lang", "en"]) == 0
    assert "12 messages, 9 flagged, 5 actions, 1 alert →" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["bilan.html", "bilan.json", "bilan.md"]
    with sqlite3.connect(run) as db:
        db.execute("UPDATE messages SET text = 'edited' WHERE msg_id = 'm3'")
    assert main(["bilan", str(run), "--out", str(out), "--lang", "en"]) == 1
    assert "chain is broken" in capsys.readouterr().err
    assert "CHAIN BROKEN" in (out / "bilan.html").read_text()


async def test_a_rehearsal_that_skipped_ahead_is_scored_on_what_it_replayed(
    tmp_path, tiny_session
) -> None:
    from vigile.replay.scoring import score_run
    from vigile.replay.store import SessionStore

    run = tmp_path / "seeked.db"
    triage = Triage(load_starter_packs())
    async with await SessionStore.open(tiny_session, readonly=True) as source:
        stored = [s async for s in source.messages()]
    later = stored[len(stored) // 2 :]  # the moderator jumped to the middle of the scenario
    async with await SessionStore.open(run) as store:
        await store.start_session("r", "rehearsal", [], {"replay_of": str(tiny_session)})
        for s in later:
            store.add_message(s.message, triage.judge(s.message))
    whole = score_run(tiny_session, run)
    assert whole.labelled == len(stored)  # a load test counts what it lost as missed
    figures = json.loads(write_bilan(run, tmp_path / "b", lang="en").json.read_text())
    r = figures["rehearsal"]
    assert r["labelled"] == r["triage"]["labelled"] == len(later)  # one set for both
    assert r["triage"]["flag_recall"] == score_run(tiny_session, run, True).flag_recall
    assert r["triage"]["flag_recall"] > whole.flag_recall  # not diluted by what was skipped
    md = (tmp_path / "b" / "bilan.md").read_text()
    assert f"scored on the same {len(later)} replayed messages" in md
