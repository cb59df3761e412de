"""The desk's settings: a TOML file in the XDG config folder, then environment variables.

    # ~/.config/vigile/config.toml  (or the file VIGILE_CONFIG names)
    [desk]
    response_warning_minutes = 5    # an item's age turns yellow
    response_late_minutes = 20      # … and red
    feed_size = 5000                # messages the live feed keeps on screen
    queue_size = 300                # items the priority pane keeps
    theme = "textual-dark"
    blur_matches = false            # hide matched slurs behind ▒▒▒ in every pane and card
    packs = []                      # rule packs instead of the starter packs: files,
                                    # "starter" (all), "starter:profanity-en" (one)
    protect = ["Maya"]              # whom the desk protects: remarks naming them are aimed
    lockdown = ["followers:10", "slow:30"]  # the raid lockdown's chat modes, with Shield Mode

    [keys]                          # binding id = key(s); see `vigile keys`
    "priority.ban" = "B"
    "priority.delete" = "x,delete"

Environment: VIGILE_THEME, VIGILE_BLUR (1 or 0). A mistake in the file stops the desk before
it starts, with the file and the reason; nothing is guessed.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual.theme import BUILTIN_THEMES

from vigile.tui.lockdown import DEFAULT as DEFAULT_LOCKDOWN
from vigile.tui.lockdown import LockdownPreset

DESK_KEYS = {
    "response_warning_minutes": (int, float),
    "response_late_minutes": (int, float),
    "feed_size": (int,),
    "queue_size": (int,),
    "theme": (str,),
    "blur_matches": (bool,),
    "packs": (list,),
    "protect": (list,),
    "lockdown": (list,),
}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class DeskConfig:
    response_warning_minutes: float = 5
    response_late_minutes: float = 20
    feed_size: int = 5_000
    queue_size: int = 300
    theme: str = "textual-dark"
    blur_matches: bool = False
    packs: tuple[str, ...] = ()
    protect: tuple[str, ...] = ()  # the streamer's names: remarks naming them are aimed at them
    lockdown: tuple[str, ...] = DEFAULT_LOCKDOWN  # see tui/lockdown.py
    keys: dict[str, str] = field(default_factory=dict)
    source: Path | None = None  # the file read, if any

    @property
    def response_targets_s(self) -> tuple[float, float]:
        return self.response_warning_minutes * 60, self.response_late_minutes * 60


def config_path() -> Path:
    if explicit := os.environ.get("VIGILE_CONFIG"):
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "vigile" / "config.toml"


def load_config(bindings: Mapping[str, tuple[str, str]], path: Path | None = None) -> DeskConfig:
    """Read the file (if there is one) and the environment. `bindings`: every binding id the
    `[keys]` table may remap, with (screen, default keys); on one screen a key does one thing."""
    path = path or config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    unknown = set(raw) - {"desk", "keys"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}; expected [desk], [keys]")
    desk = _desk(raw.get("desk", {}), path)
    keys = _keys(raw.get("keys", {}), bindings, path)
    if theme := os.environ.get("VIGILE_THEME"):
        desk["theme"] = theme
    if (blur := os.environ.get("VIGILE_BLUR")) is not None:
        desk["blur_matches"] = blur.strip().lower() in ("1", "true", "yes", "on")
    if desk.get("theme", "textual-dark") not in BUILTIN_THEMES:
        raise ConfigError(f"{path}: theme {desk['theme']!r} is not one of {sorted(BUILTIN_THEMES)}")
    config = DeskConfig(**desk, keys=keys, source=path if raw else None)
    if not 0 < config.response_warning_minutes <= config.response_late_minutes:
        raise ConfigError(
            f"{path}: response_warning_minutes must be > 0 and at most response_late_minutes"
        )
    if config.feed_size < 100 or config.queue_size < 10:
        raise ConfigError(f"{path}: feed_size must be at least 100 and queue_size at least 10")
    return config


def _desk(table: Any, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [desk] must be a table")
    desk = {}
    for key, value in table.items():
        if key not in DESK_KEYS:
            raise ConfigError(f"{path}: [desk] {key} is not a setting; known: {sorted(DESK_KEYS)}")
        if not isinstance(value, DESK_KEYS[key]) or (
            isinstance(value, bool) and key != "blur_matches"
        ):
            raise ConfigError(f"{path}: [desk] {key} = {value!r} has the wrong type")
        if key == "packs":
            if not all(isinstance(p, str) for p in value):
                raise ConfigError(f"{path}: [desk] packs must be a list of file paths")
            value = tuple(str(Path(p).expanduser()) for p in value)
        if key == "protect":
            if not all(isinstance(n, str) and n.strip() for n in value):
                raise ConfigError(f"{path}: [desk] protect must be a list of names")
            value = tuple(value)
        if key == "lockdown":
            try:
                LockdownPreset.parse(value)
            except ValueError as exc:
                raise ConfigError(f"{path}: [desk] {exc}") from exc
            value = tuple(str(v) for v in value)
        desk[key] = value
    return desk


def _keys(table: Any, bindings: Mapping[str, tuple[str, str]], path: Path) -> dict[str, str]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [keys] must be a table of binding id = key")
    for binding_id, key in table.items():
        if binding_id not in bindings:
            raise ConfigError(
                f"{path}: [keys] {binding_id!r} is not a binding id; `vigile keys` lists them"
            )
        if not isinstance(key, str) or not key.strip():
            raise ConfigError(f'{path}: [keys] {binding_id} must be a key name such as "B"')
    taken: dict[tuple[str, str], str] = {}
    for binding_id, (screen, default) in bindings.items():
        for key in str(table.get(binding_id, default)).split(","):
            other = taken.setdefault((screen, key.strip()), binding_id)
            if other != binding_id:
                raise ConfigError(
                    f"{path}: [keys] {key.strip()!r} would do both {other} and {binding_id}"
                )
    return dict(table)
