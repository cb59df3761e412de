"""`vigile import` on a large archive: lines per second, whole process, and its peak memory.

    python bench/import_bench.py [--lines 1000000] [--format irc|text|ytdlp] [--keep DIR]
                                 [--compare]

Writes an archive of LINES lines in the chosen tool's shape (raw Twitch IRC as chat-log
services serve it, a Chatterino-style text log, or yt-dlp's live_chat.json), then runs
`vigile import` on it as a user would and times the whole process, with the process that reads
the archive beside it (their CPU seconds are added; the peak RSS is the larger one's). About 1
in 2,000 lines is broken on purpose, so the malformed path is measured too. With --keep, an
archive already there is used again. --compare: then the same import in one process, and with
a second process reading the archive (`vigile import` picks one of the two by itself).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WORDS = "gg what a race lets go pog c'est combien le lien svp trop fort allez la team nul".split()
START_MS = 1_721_498_400_000  # 2024-07-20 18:00 UTC


def irc_line(n: int, rng: random.Random) -> str:
    """A PRIVMSG as Twitch sends it: 17 tags, a random message id (a UUID)."""
    user = rng.randrange(20_000)
    text = " ".join(rng.choices(WORDS, k=rng.randint(1, 12)))
    tags = (
        f"badge-info=;badges=subscriber/{user % 24};color=#1E90FF;display-name=User{user};"
        f"emotes=;first-msg=0;flags=;id={uuid.UUID(int=rng.getrandbits(128), version=4)};mod=0;"
        f"returning-chatter=0;room-id=51496027;subscriber=1;tmi-sent-ts={START_MS + n * 3};"
        f"turbo=0;user-id={100000 + user};user-type="
    )
    return f"@{tags} :user{user}!user{user}@user{user}.tmi.twitch.tv PRIVMSG #lumina :{text}"


def text_line(n: int, rng: random.Random) -> str:
    seconds = 18 * 3600 + n * 3 // 1000
    clock = f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    text = " ".join(rng.choices(WORDS, k=rng.randint(1, 12)))
    return f"[{clock}]  user{rng.randrange(20_000)}: {text}"


def ytdlp_line(n: int, rng: random.Random) -> str:
    user = rng.randrange(20_000)
    renderer = {
        "message": {"runs": [{"text": " ".join(rng.choices(WORDS, k=rng.randint(1, 12)))}]},
        "authorName": {"simpleText": f"User {user}"},
        "id": f"ChwKGk{rng.getrandbits(120):030x}",  # ids are random, as YouTube's are
        "timestampUsec": str((START_MS + n * 3) * 1000),
        "authorExternalChannelId": f"UC{user:022d}",
    }
    action = {"addChatItemAction": {"item": {"liveChatTextMessageRenderer": renderer}}}
    line = {"replayChatItemAction": {"actions": [action], "videoOffsetTimeMsec": str(n * 3)}}
    return json.dumps(line)


SHAPES = {
    "irc": (irc_line, "lumina_raw.irc"),
    "text": (text_line, "lumina-2024-07-20.log"),
    "ytdlp": (ytdlp_line, "Race [Lr7xQ2mVt9k].live_chat.json"),
}


def write_archive(path: Path, lines: int, shape: str) -> None:
    make = SHAPES[shape][0]
    rng = random.Random(2026)
    with open(path, "w", encoding="utf-8") as out:
        for n in range(lines):
            out.write("}{ broken line\n" if n % 2_000 == 1_999 else make(n, rng) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--format", choices=sorted(SHAPES), default="irc")
    parser.add_argument("--keep", type=Path, help="write the archive and session here")
    parser.add_argument("--compare", action="store_true", help="one process, then two")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="vigile-import-bench-"))
    try:
        return run(args, folder)
    finally:
        if not args.keep:  # a gigabyte of archive and session: gone unless asked for
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / SHAPES[args.format][1]
    db = folder / f"import-{args.format}.db"
    started = time.perf_counter()
    if not (args.keep and archive.exists()):
        write_archive(archive, args.lines, args.format)
    print(
        f"{args.lines:,} lines of {args.format} ({archive.stat().st_size / 2**20:,.0f} MiB) "
        f"ready in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    command = [sys.executable, "-m", "vigile.tui.cli", "import", str(archive), "--db", str(db)]
    if not timed("vigile import", command + ["--force"], args.lines, db):
        return 1
    if args.compare:
        for name, parallel in (("one process", False), ("two processes", True)):
            code = (
                "import asyncio, sys; from pathlib import Path; "
                "from vigile.replay.importers.driver import import_archives; "
                "from vigile.replay.importers.items import ImportOptions; "
                "asyncio.run(import_archives([Path(sys.argv[1])], Path(sys.argv[2]), "
                f"ImportOptions(), replace=True, parallel={parallel}))"
            )
            command = [sys.executable, "-c", code, str(archive), str(db)]
            if not timed(name, command, args.lines, db):
                return 1
    return 0


def timed(name: str, command: list[str], lines: int, db: Path) -> bool:
    """Run one import as its own process; its wall and CPU time, and its peak memory."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        # this import's own usage, its reading process included, whatever else runs
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return False
    cpu = usage.ru_utime + usage.ru_stime
    print(done.stdout.strip())
    print(
        f"{name}: {elapsed:.1f} s for {lines:,} lines ({cpu:.1f} s of CPU), "
        f"{lines / elapsed:,.0f} lines/s, peak RSS {usage.ru_maxrss / 1024:,.0f} MiB, "
        f"session {db.stat().st_size / 2**20:,.0f} MiB; load average {load:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after",
        flush=True,
    )
    return True


if __name__ == "__main__":
    sys.exit(main())
