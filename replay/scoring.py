"""Scoring a run against a scenario's ground truth: how fast the raid was seen, whether
anything was raised before it began, and precision and recall of what was flagged.

The run is a session recorded from a labelled one (a load test, a replay): messages are
matched by platform and message id, alerts and the raid onset are compared on the stream's
own clock (signals and scenario events both carry the chat's time)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

ALERT_KINDS_FOR_ONSET = ("raid", "flood", "copypasta", "author-burst", "rising-hashtag")


@dataclass(frozen=True, slots=True)
class Score:
    labelled: int
    flag_precision: float | None
    flag_recall: float | None
    raid_precision: float | None  # messages tagged `raid` against raid-member labels
    raid_recall: float | None
    raid_onset: float | None  # stream time of the first raid phase, if any
    seconds_to_first_alert: float | None  # from the onset to an alert from the chat itself
    alerts_before_onset: int
    alerts: dict[str, int] = field(default_factory=dict)  # raised, by kind

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def score_run(source: Path, run: Path) -> Score | None:
    """None when `source` carries no labels (a recording of a real event)."""
    conn = sqlite3.connect(f"file:{run}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS src", (f"file:{source}?mode=ro",))
        labelled = conn.execute("SELECT count(*) FROM src.labels").fetchone()[0]
        if not labelled:
            return None
        # (truth, predicted) pairs counted as the rows stream by: an hour's session has
        # millions of labels, and holding them all would double the load test's memory
        flagged: Counter[tuple[bool, bool]] = Counter()
        raid: Counter[tuple[bool, bool]] = Counter()
        for should, member, did, tags in conn.execute(
            """SELECT l.should_flag, l.raid_member, v.message_seq IS NOT NULL, v.tags
               FROM src.labels l JOIN src.messages s ON s.seq = l.message_seq
               LEFT JOIN messages m ON m.platform = s.platform AND m.msg_id = s.msg_id
               LEFT JOIN verdicts v ON v.message_seq = m.seq"""
        ):
            flagged[bool(should), bool(did)] += 1
            raid[bool(member), bool(tags) and "raid" in json.loads(tags)] += 1
        onset = _raid_onset(conn)
        alerts = [
            (ts, kind.removeprefix("alert:"), json.loads(data))
            for ts, kind, data in conn.execute(
                "SELECT ts, kind, data FROM events WHERE kind LIKE 'alert:%' ORDER BY ts"
            )
        ]
    finally:
        conn.close()
    raised = [(ts, kind) for ts, kind, data in alerts if data.get("state") == "raised"]
    # Seen by Vigile itself: Twitch's raid notice does not count, what the chat did does.
    detected = [ts for ts, kind, data in alerts
                if data.get("state") in ("raised", "escalated") and kind in ALERT_KINDS_FOR_ONSET
                and data.get("source") != "notice"]  # fmt: skip
    after = [ts for ts in detected if onset is not None and ts >= onset]
    by_kind: dict[str, int] = {}
    for _, kind in raised:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    flag_precision, flag_recall = _precision_recall(flagged)
    raid_precision, raid_recall = _precision_recall(raid)
    return Score(
        labelled=labelled,
        flag_precision=flag_precision,
        flag_recall=flag_recall,
        raid_precision=raid_precision,
        raid_recall=raid_recall,
        raid_onset=onset,
        seconds_to_first_alert=round(after[0] - onset, 1) if after and onset is not None else None,
        alerts_before_onset=sum(1 for ts, _ in raised if onset is not None and ts < onset),
        alerts=by_kind,
    )


def _raid_onset(conn: sqlite3.Connection) -> float | None:
    for ts, data in conn.execute(
        "SELECT ts, data FROM src.events WHERE kind = 'scenario:phase' ORDER BY ts"
    ):
        if json.loads(data).get("raid"):
            return float(ts)
    return None


def _precision_recall(pairs: Counter[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """From the counts of (truth, predicted) pairs."""
    hits = pairs[True, True]
    predicted = hits + pairs[False, True]
    actual = hits + pairs[True, False]
    precision = round(hits / predicted, 3) if predicted else None
    recall = round(hits / actual, 3) if actual else None
    return precision, recall
