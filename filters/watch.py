"""Hot reload of rule-pack files: a valid edit goes live at once, a broken one changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from vigile.filters.rules import RulePackError, load_packs
from vigile.filters.triage import RulesVersion, Triage

if TYPE_CHECKING:
    import logging

Signature = tuple[tuple[int, int, int] | None, ...]
Rejected = Callable[[RulePackError], None]


class PackWatcher:
    """Polls the pack files (a stat each, every `interval` seconds: editors that replace the
    file, network folders and every OS behave the same). On a change, every pack is loaded
    and validated, and only then swapped in; an invalid edit is reported through `on_rejected`
    with file, line and reason, and the running rules stay."""

    def __init__(
        self,
        paths: list[Path],
        triage: Triage,
        on_rejected: Rejected | None = None,
        author: str = "file",
        interval: float = 0.25,
    ) -> None:
        self.paths, self.triage, self.interval = [Path(p) for p in paths], triage, interval
        self.on_rejected = on_rejected
        self.author = author
        # Nothing seen yet: the first check compares the files with the live rules, so an edit
        # saved while the desk was starting (after its packs were read) is not missed.
        self._seen: Signature | None = None
        self.last_error: RulePackError | None = None

    def _signature(self) -> Signature:
        signature = []
        for path in self.paths:
            try:
                stat = path.stat()
                signature.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
            except OSError:
                signature.append(None)
        return tuple(signature)

    def check(self) -> RulesVersion | RulePackError | None:
        """Reload if a file changed: the new version, the refusal, or None if nothing changed."""
        signature = self._signature()
        if signature == self._seen:
            return None
        self._seen = signature
        try:
            packs = [pack for path in self.paths for pack in load_packs(path)]
            live = {p.origin: p.text for p in self.triage.history[-1].packs}
            if all(live.get(p.origin) == p.text for p in packs):
                return None  # saved without a change, or the desk's editor wrote what is live
            # packs that did not come from these files (accepted suggestions) stay live
            from vigile.filters.suggestions import PACK_NAME as SUGGESTIONS

            kept = [p for p in self.triage.history[-1].packs if p.origin == SUGGESTIONS]
            version = self.triage.swap([*packs, *kept], self.author, "file")
        except RulePackError as error:
            self.last_error = error
            if self.on_rejected:  # the caller tells the user, once, in its own words
                self.on_rejected(error)
            else:
                _log().warning("rule edit refused, running rules kept: %s", error)
            return error
        self.last_error = None
        _log().info("rules v%d live from %s", version.version, ", ".join(map(str, self.paths)))
        return version

    async def run(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(self.interval)
            self.check()


def _log() -> logging.Logger:
    import logging  # loaded by the first edit: `vigile check` starts without it

    return logging.getLogger(__name__)
