"""yt-dlp's YouTube live chat (`*.live_chat.json`): one JSON object per line, each holding the
actions of one moment (`replayChatItemAction`) and the video offset they belong to. The actions
go through the live reader's own processor (connectors/youtube_items.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from vigile.connectors.model import ChatMessage, PlatformEvent
from vigile.connectors.youtube_items import items_from
from vigile.replay.importers.archive import Archive
from vigile.replay.importers.items import (
    ImportOptions,
    Item,
    Skipped,
    Timeline,
    as_received,
    malformed,
    numbered,
)

_VIDEO_IN_NAME = re.compile(r"(?:\[([A-Za-z0-9_-]{11})\]|^([A-Za-z0-9_-]{11}))\.live_chat\.json")


def video_in_name(path: Path) -> str | None:
    """`Title [dQw4w9WgXcQ].live_chat.json` or `dQw4w9WgXcQ.live_chat.json` → the video id."""
    found = _VIDEO_IN_NAME.search(path.name)
    return (found[1] or found[2]) if found else None


def read(archive: Archive, options: ImportOptions) -> Iterator[Item]:
    video = options.channel or video_in_name(archive.path) or archive.path.name.split(".")[0]
    timeline = Timeline(options.origin())
    base: float | None = None  # wall time of the video's offset 0, once a message tells it
    for number, raw in archive.byte_lines():
        if not raw.strip():
            yield Skipped("blank line")
            continue
        try:
            line = orjson.loads(raw)
            replay = line["replayChatItemAction"]
            actions = replay["actions"]
            # a replay's offset is inside the action; a chat saved live puts it beside
            offset = int(replay.get("videoOffsetTimeMsec", line.get("videoOffsetTimeMsec", 0)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            error = f"not a live chat line: {type(exc).__name__}: {exc}"
            text = raw.decode("utf-8", "replace")
            yield from timeline.untimed(malformed("youtube", video, number, error, text, 0.0))
            continue
        for action in actions if isinstance(actions, list) else [actions]:
            for item in items_from(action, video):
                if isinstance(item, ChatMessage) and _stamped(action):
                    if base is None:
                        base = item.sent_at - offset / 1000
                    yield from timeline.timed(as_received(item), item.sent_at)
                elif base is not None:  # placed by the video offset
                    ts = base + offset / 1000
                    yield from timeline.timed(_placed(item, number, ts), ts)
                else:
                    yield from timeline.untimed(_placed(item, number, 0.0))
    yield from timeline.end()


def _placed(item: ChatMessage | PlatformEvent, number: int, ts: float) -> Item:
    if isinstance(item, ChatMessage):
        return replace(item, sent_at=ts, received_at=ts)
    if item.kind in ("malformed", "unknown"):
        return numbered(item, number, ts)
    return replace(item, ts=ts)


def _stamped(action: Mapping[str, Any]) -> bool:
    """Whether the chat item carries its own send time (`timestampUsec`)."""
    add = action.get("addChatItemAction") or action.get("replaceChatItemAction") or {}
    item = add.get("item") or add.get("replacementItem") or {}
    body = next(iter(item.values()), {}) if isinstance(item, dict) else {}
    return isinstance(body, dict) and "timestampUsec" in body
