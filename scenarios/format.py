"""The scenario file format (TOML): parsing and validation into plain values."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

BUNDLED = resources.files("vigile.scenarios")


class ScenarioError(ValueError):
    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    lines: dict[str, tuple[str, ...]]  # language → lines
    flag: bool = False
    category: str | None = None
    question: bool = False


@dataclass(frozen=True, slots=True)
class Channel:
    platform: str
    channel: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Raid:
    accounts: int
    stems: tuple[str, ...]
    share: float  # of the phase's messages that come from raid accounts
    pools: dict[str, float]  # raid pool → weight
    mutate: float = 0.5  # chance that a raid message is a mutated near-duplicate


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    duration: float
    rate: float
    mix: dict[str, float]
    raid: Raid | None = None
    events: tuple[dict[str, Any], ...] = ()  # platform events at the start of the phase


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    seed: int
    start: float  # UTC unix seconds
    languages: dict[str, float]
    channels: tuple[Channel, ...]
    regulars: int
    first_time_share: float
    phases: tuple[Phase, ...]
    pools: dict[str, Pool] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return sum(p.duration for p in self.phases)


def _weights(value: Any, what: str, fail: Any) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        fail(f"{what} must be a table of name = weight")
    if not all(isinstance(w, int | float) and w >= 0 for w in value.values()):
        fail(f"{what}: weights must be numbers ≥ 0")
    if sum(value.values()) <= 0:
        fail(f"{what}: weights add up to zero")
    return {str(k): float(v) for k, v in value.items()}


def _pools(raw: Any, file: str) -> dict[str, Pool]:
    pools = {}
    for name, body in (raw or {}).items():
        if not isinstance(body, dict):
            raise ScenarioError(file, f"pool {name!r} must be a table")
        lines = {k: tuple(v) for k, v in body.items() if isinstance(v, list)}
        if not lines or not all(all(isinstance(x, str) for x in v) for v in lines.values()):
            raise ScenarioError(file, f"pool {name!r} needs lists of lines per language")
        pools[name] = Pool(
            name,
            lines,
            bool(body.get("flag", False)),
            body.get("category"),
            bool(body.get("question", False)),
        )
    return pools


def bundled_pools() -> dict[str, Pool]:
    return _pools(
        tomllib.loads(BUNDLED.joinpath("lines.toml").read_text("utf-8"))["pools"], "lines.toml"
    )


def parse_scenario(text: str, file: str = "<memory>") -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(file, f"TOML syntax: {exc}") from exc

    def fail(reason: str) -> None:
        raise ScenarioError(file, reason)

    head = data.get("scenario")
    if not isinstance(head, dict):
        fail("needs a [scenario] table")
    start = head.get("start", datetime(2026, 1, 1, 20, tzinfo=UTC))
    if not isinstance(start, datetime):
        fail("scenario.start must be a date-time such as 2026-03-14T19:00:00Z")
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    pools = {**bundled_pools(), **_pools(data.get("pools"), file)}
    channels = tuple(
        Channel(str(c["platform"]), str(c["channel"]), float(c.get("weight", 1.0)))
        for c in data.get("channels", [])
        if isinstance(c, dict) and "platform" in c and "channel" in c
    )
    if not channels:
        fail("needs at least one [[channels]] with platform and channel")
    audience = data.get("audience", {})
    phases = []
    for index, raw in enumerate(data.get("phases", [])):
        label = f"phase #{index + 1}"
        if not isinstance(raw, dict):
            fail(f"{label} must be a table")
        label = f"phase {raw.get('name', index + 1)!r}"
        duration, rate = raw.get("duration"), raw.get("rate")
        if not isinstance(duration, int | float) or duration <= 0:
            fail(f"{label}: duration must be a number of seconds > 0")
        if not isinstance(rate, int | float) or rate < 0:
            fail(f"{label}: rate must be messages per second ≥ 0")
        mix = _weights(raw.get("mix", {"ordinary": 1}), f"{label}: mix", fail)
        raid = None
        if "raid" in raw:
            r = raw["raid"]
            raid = Raid(
                accounts=int(r.get("accounts", 50)),
                stems=tuple(r.get("stems", ["raider_"])),
                share=float(r.get("share", 0.5)),
                pools=_weights(r.get("pools", {}), f"{label}: raid.pools", fail),
                mutate=float(r.get("mutate", 0.5)),
            )
            if raid.accounts < 1 or not raid.stems or not 0 <= raid.share <= 1:
                fail(f"{label}: raid needs accounts ≥ 1, stems, and a share from 0 to 1")
        for pool in [*mix, *(raid.pools if raid else ())]:
            if pool not in pools:
                fail(f"{label}: unknown pool {pool!r} (known: {', '.join(sorted(pools))})")
        events = tuple(e for e in raw.get("events", []) if isinstance(e, dict) and "kind" in e)
        phases.append(
            Phase(str(raw.get("name", index + 1)), float(duration), float(rate), mix, raid, events)
        )
    if not phases:
        fail("needs at least one [[phases]]")
    return Scenario(
        name=str(head.get("name", Path(file).stem)),
        title=str(head.get("title", "")),
        seed=int(head.get("seed", 1)),
        start=start.timestamp(),
        languages=_weights(head.get("languages", {"fr": 1, "en": 1}), "scenario.languages", fail),
        channels=channels,
        regulars=int(audience.get("regulars", 200)),
        first_time_share=float(audience.get("first_time_share", 0.05)),
        phases=tuple(phases),
        pools=pools,
    )


def load_scenario(name_or_path: str) -> Scenario:
    """A scenario file path, or the name of a bundled scenario (`demo`, `esports-raid`…)."""
    path = Path(name_or_path)
    if path.exists():
        return parse_scenario(path.read_text("utf-8"), str(path))
    bundled = BUNDLED.joinpath(f"{name_or_path.removesuffix('.toml')}.toml")
    if bundled.is_file() and name_or_path != "lines":
        return parse_scenario(bundled.read_text("utf-8"), f"scenarios/{bundled.name}")
    raise ScenarioError(
        name_or_path,
        f"no such file, and no bundled scenario of that name "
        f"(bundled: {', '.join(bundled_names())})",
    )


def bundled_names() -> list[str]:
    return sorted(
        p.name.removesuffix(".toml")
        for p in BUNDLED.iterdir()
        if p.name.endswith(".toml") and p.name != "lines.toml"
    )
