"""Which tool wrote an archive, from its name and its first bytes."""

from __future__ import annotations

import re

from vigile.replay.importers.archive import Archive
from vigile.replay.importers.clock import date_in_name
from vigile.replay.importers.csvlog import REQUIRED, fields_of
from vigile.replay.importers.formats import FORMATS
from vigile.replay.importers.items import ImportFailed

_IRC = re.compile(
    r"^(@\S+ )?:\S+ (PRIVMSG|CLEARCHAT|CLEARMSG|USERNOTICE|ROOMSTATE|NOTICE|JOIN|\d{3}) "
)
_WALL_STAMP = re.compile(r"^\[\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}:\d{2}(\.\d+)?( UTC)?\] ")
_DAY_STAMP = re.compile(r"^\[(\d{1,3}):\d{2}:\d{2}\] ")
_UNSTAMPED = re.compile(r"^[^\s:\[]{1,40}: ")


def detect(archive: Archive) -> str:
    """The format name, or ImportFailed saying what the file looked like."""
    name = archive.path.name.lower()
    if ".live_chat.json" in name:
        return "ytdlp"
    text = archive.head().decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    lines = [line for line in text.splitlines() if line.strip()][:20]
    first = lines[0] if lines else ""
    if first.startswith("{"):
        if '"replayChatItemAction"' in first:
            return "ytdlp"
        if '"comments"' in text or '"content_offset_seconds"' in text or '"streamer"' in text:
            return "twitchdownloader"
    if re.match(r"^\[\s*(\{|\]|$)", text) and (
        '"message_type"' in text or '"time_in_seconds"' in text or text.startswith("[]")
    ):
        return "chat-downloader"
    chat = [line for line in lines if not line.startswith("#")]
    if chat and _IRC.match(chat[0]):
        return "irc"
    if chat and _WALL_STAMP.match(chat[0]):
        return "text"
    if chat and (day := _DAY_STAMP.match(chat[0])):
        # Chatterino writes two-digit hours and dates its files; TwitchDownloader's offsets
        # from the stream's start do not pad the hour
        dated = date_in_name(archive.path) or any(
            line.startswith("# Start logging") for line in lines
        )
        return "text" if dated or len(day[1]) == 2 else "twitchdownloader-text"
    if name.endswith((".csv", ".csv.gz", ".tsv")) or _csv_header(first):
        return "csv"
    if chat and _UNSTAMPED.match(chat[0]):
        return "twitchdownloader-text"
    shown = first[:60] + ("…" if len(first) > 60 else "")
    raise ImportFailed(
        f"cannot tell which tool wrote {archive.path.name} (it starts {shown!r}); "
        f"give --format ({', '.join(FORMATS)})"
    )


def _csv_header(line: str) -> bool:
    for delimiter in ",;\t|":
        if delimiter in line and all(f in fields_of(line.split(delimiter)) for f in REQUIRED):
            return True
    return False
