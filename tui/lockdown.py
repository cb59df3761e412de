"""A raid lockdown's preset: the chat modes turned on with Shield Mode, and off again with it.

[desk]
lockdown = ["followers:10", "slow:30"]   # the default; also "emote-only", "subscribers-only"
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT = ("followers:10", "slow:30")


@dataclass(frozen=True, slots=True)
class LockdownPreset:
    followers_minutes: int | None = None  # followers-only, for those who followed this long
    slow_s: int | None = None
    emote_only: bool = False
    subscribers_only: bool = False

    @classmethod
    def parse(cls, items: tuple[str, ...] | list[str]) -> LockdownPreset:
        """From the config's list; ValueError (naming the bad item) for anything else."""
        fields: dict[str, int | bool] = {}
        for item in items:
            name, _, value = str(item).strip().partition(":")
            if name == "followers":
                fields["followers_minutes"] = _number(item, value or "0", 0, 129_600)
            elif name == "slow":
                fields["slow_s"] = _number(item, value or "30", 3, 120)
            elif name == "emote-only" and not value:
                fields["emote_only"] = True
            elif name == "subscribers-only" and not value:
                fields["subscribers_only"] = True
            else:
                raise ValueError(
                    f"lockdown item {item!r}: expected followers[:MINUTES], slow[:SECONDS], "
                    "emote-only or subscribers-only"
                )
        return cls(**fields)  # type: ignore[arg-type]

    def settings(self, on: bool) -> dict[str, bool | int]:
        """The chat settings Helix takes, to turn the preset on or (all of it) off."""
        settings: dict[str, bool | int] = {}
        if self.followers_minutes is not None:
            settings["follower_mode"] = on
            if on:
                settings["follower_mode_duration"] = self.followers_minutes
        if self.slow_s is not None:
            settings["slow_mode"] = on
            if on:
                settings["slow_mode_wait_time"] = self.slow_s
        if self.emote_only:
            settings["emote_mode"] = on
        if self.subscribers_only:
            settings["subscriber_mode"] = on
        return settings

    def describe(self) -> str:
        said = ["Shield Mode"]
        if self.followers_minutes is not None:
            said.append(f"followers-only ({self.followers_minutes} min)")
        if self.slow_s is not None:
            said.append(f"slow mode ({self.slow_s} s)")
        if self.emote_only:
            said.append("emote-only")
        if self.subscribers_only:
            said.append("subscribers-only")
        return " + ".join(said)


def _number(item: str, value: str, least: int, most: int) -> int:
    if not value.isdigit() or not least <= int(value) <= most:
        raise ValueError(f"lockdown item {item!r}: the number must be {least} to {most}")
    return int(value)
