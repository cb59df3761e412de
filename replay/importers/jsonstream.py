"""What streamed JSON archives share: a document that breaks off is an event, not a crash."""

from __future__ import annotations

from vigile.connectors.model import PlatformEvent
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.items import malformed


def broken_json(platform: str, channel: str, archive: Archive, error: Exception) -> PlatformEvent:
    """The rest of the file cannot be read (cut short, corrupted): what came before is kept."""
    where = archive.position
    reason = f"the JSON breaks off near byte {where:,}, the rest is not read: {error}"
    return malformed(platform, channel, 0, reason, "", 0.0)
