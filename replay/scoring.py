"""Scoring a run against a scenario's ground truth: how fast the raid was seen, whether
anything was raised before it began, and precision and recall of what was flagged.

The run is a session recorded from a labelled one (a load test, a replay): messages are
matched by platform and message id, alerts and the raid onset are compared on the stream's
own clock (signals and scenario events both carry the chat's time)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vigile.replay import reads
from vigile.replay.reads import SessionFile

ALERT_KINDS_FOR_ONSET = ("raid", "flood", "copypasta", "author-burst", "rising-hashtag")


@dataclass(frozen=True, slots=True)
class Score:
    labelled: int  # messages of the source with a label: the only ones scored
    flag_precision: float | None
    flag_recall: float | None
    raid_precision: float | None  # messages tagged `raid` against raid-member labels
    raid_recall: float | None
    raid_onset: float | None  # stream time of the first raid phase, if any
    seconds_to_first_alert: float | None  # from the onset to an alert from the chat itself
    alerts_before_onset: int
    alerts: dict[str, int] = field(default_factory=dict)  # raised, by kind
    messages: int = 0  # in the source: those beyond `labelled` (real chat) are not scored

    @property
    def unlabelled(self) -> int:
        return max(0, self.messages - self.labelled)

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "unlabelled": self.unlabelled}


def score_run(source: Path, run: Path, received_only: bool = False) -> Score | None:
    """None when `source` carries no labels (a recording of a real event). `received_only`
    scores the labelled messages the run received, not every label of the source: a
    rehearsal that skipped part of the scenario is judged on what it was shown (a load test
    counts every label: a message it lost is a message missed)."""
    with SessionFile(run, labelled_source=source) as db:
        count = db.one(reads.SOURCE_LABELS)
        labelled = count.value if count else 0
        if not labelled:
            return None
        total = db.one(reads.SOURCE_MESSAGES)
        # (truth, predicted) pairs counted as the rows stream by: an hour's session has
        # millions of labels, and holding them all would double the load test's memory
        flagged: Counter[tuple[bool, bool]] = Counter()
        raid: Counter[tuple[bool, bool]] = Counter()
        for row in db.each(reads.OUTCOMES_RECEIVED if received_only else reads.OUTCOMES):
            flagged[bool(row.should_flag), bool(row.flagged)] += 1
            raid[bool(row.raid_member), bool(row.tags) and "raid" in row.tags] += 1
        if received_only:
            labelled = sum(flagged.values())
        onset = _raid_onset(db)
        alerts = [
            (alert.ts, alert.kind.removeprefix("alert:"), alert.data)
            for alert in db.each(reads.ALERTS_BY_TIME)
        ]
    raised = [(ts, kind) for ts, kind, data in alerts if data.get("state") == "raised"]
    # Seen by Vigile itself: Twitch's raid notice does not count, what the chat did does.
    detected = [
        ts
        for ts, kind, data in alerts
        if data.get("state") in ("raised", "escalated")
        and kind in ALERT_KINDS_FOR_ONSET
        and data.get("source") != "notice"
    ]
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
        messages=total.value if total else labelled,
    )


def _raid_onset(db: SessionFile) -> float | None:
    for phase in db.each(reads.RAID_PHASES):
        if phase.data.get("raid"):
            return float(phase.ts)
    return None


def _precision_recall(pairs: Counter[tuple[bool, bool]]) -> tuple[float | None, float | None]:
    """From the counts of (truth, predicted) pairs."""
    hits = pairs[True, True]
    predicted = hits + pairs[False, True]
    actual = hits + pairs[True, False]
    precision = round(hits / predicted, 3) if predicted else None
    recall = round(hits / actual, 3) if actual else None
    return precision, recall
