"""Twitch's own moderation in the bilan: other moderators' actions in the response times, and
the raid lockdowns on the raid timeline."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import twitch_eventsub as es
from vigile.connectors.eventsub_events import to_event
from vigile.connectors.eventsub_frames import Notification
from vigile.connectors.model import (
    ActionKind,
    ActionResult,
    ChatMessage,
    Match,
    ModAction,
    PlatformEvent,
    Verdict,
)
from vigile.replay.bilan import write_bilan
from vigile.replay.store import SessionStore

T0 = 1_790_000_000.0


def told(sub_type: str, event: dict, at: float, version: str = "2") -> PlatformEvent:
    """A notification as the EventSub client records it, at `at`."""
    recorded = to_event(Notification(f"n-{at}", sub_type, version, "", event), "chan")
    return PlatformEvent(recorded.platform, recorded.channel, recorded.kind, at, recorded.data)


async def crafted(tmp_path: Path) -> Path:
    db = tmp_path / "live.db"
    flagged = Verdict(matches=(Match("r", "harassment", 3, (0, 1), "exact"),), priority=50)
    async with await SessionStore.open(db) as store:
        await store.start_session("live", "live", ["twitch:chan", "twitch-eventsub:chan"])
        for i, author in enumerate(("u1", "u2", "u3")):
            at = T0 + 10 * i
            message = ChatMessage("twitch", "chan", f"m{i + 1}", author, author, "x", at, at)
            store.add_message(message, flagged)
        store.add_action(
            ModAction(
                ActionKind.DELETE,
                "twitch",
                "chan",
                "modo",
                "u1",
                "m1",
                requested_at=T0 + 15,
                result=ActionResult.OK,
            )
        )
        own = es.moderate("delete", ("2", "modo"), ("u1", "u1"), message_id="m1")
        store.add_event(told("channel.moderate", own, T0 + 16))  # our delete, told back
        ban = es.moderate("ban", ("3", "othermod"), ("u2", "u2"), reason="hate")
        store.add_event(told("channel.moderate", ban, T0 + 40))  # answers m2, said at T0+10
        slow = es.moderate("slow", ("3", "othermod"), None, wait_time_seconds=30)
        store.add_event(told("channel.moderate", slow, T0 + 45))
        for state, at in (("raised", T0 + 50), ("cleared", T0 + 170)):
            data = {"state": state, "subject": "raider", "raised_at": T0 + 50, "severity": 4}
            store.add_event(PlatformEvent("twitch", "chan", "alert:raid", at, data))
        store.add_event(
            told("channel.shield_mode.begin", es.shield(True, ("2", "modo")), T0 + 59, "1")
        )
        for state, at in (("start", T0 + 60), ("end", T0 + 300)):
            data = {"state": state, "preset": "Shield Mode + slow mode (30 s)", "moderator": "modo"}
            store.add_event(PlatformEvent("twitch", "chan", "lockdown", at, data))
        store.add_event(
            told("channel.shield_mode.end", es.shield(False, ("2", "modo")), T0 + 301, "1")
        )
        # Shield Mode turned on by another moderator later, with no raid
        store.add_event(told("channel.shield_mode.begin", es.shield(True), T0 + 400, "1"))
    return db


async def test_actions_outside_vigile_count_in_response_times_and_lockdowns_are_timed(
    tmp_path,
) -> None:
    files = write_bilan(await crafted(tmp_path), tmp_path / "out", lang="en")
    m = files.figures["moderation"]
    assert m["outside_vigile"] == {
        "count": 2,
        "by_action": {"ban": 1, "slow": 1},
        "by_moderator": {"othermod": {"ban": 1, "slow": 1}},
    }
    rt = m["response_times"]
    assert rt["seconds"] == [15.0, 30.0]  # m1 by this desk, m2 by othermod on Twitch
    assert m["unhandled"] == 1  # m3: nobody answered it
    first, second = files.figures["threats"]["lockdowns"]
    assert (first["source"], first["by"], first["started_at"], first["ended_at"]) == (
        "vigile",
        "modo",
        T0 + 60,
        T0 + 300,
    )
    assert first["raids"] == [
        {"raised_at": T0 + 50, "cleared_at": T0 + 170, "lasted_after_s": 110.0}
    ]
    assert (second["source"], second["by"], second["ended_at"], second["raids"]) == (
        "twitch",
        "othermod",
        None,
        [],
    )
    md = files.markdown.read_text()
    assert "Raid lockdowns" in md and "1 min 50 s" in md
    assert "Actions taken outside Vigile (Twitch)" in md
    html = files.html.read_text()
    assert "Raid lockdowns" in html and "othermod" in html


async def test_a_french_bilan_names_twitchs_tools_in_french(tmp_path) -> None:
    files = write_bilan(await crafted(tmp_path), tmp_path / "out", lang="fr")
    md = files.markdown.read_text()
    assert "Verrouillages anti-raid" in md and "Actions prises hors de Vigile" in md
