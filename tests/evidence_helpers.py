"""What the evidence tests share: a session file changed by hand, the real command run."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]


def tamper(path: Path, sql: str, name: str = "tampered") -> Path:
    """A copy of the session file changed by hand, as someone with the file could."""
    copy = path.with_name(f"{name}-{path.name}")
    shutil.copy(path, copy)
    with sqlite3.connect(copy) as db:
        db.executescript(sql)
    return copy


def vigile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VIGILE, *args], capture_output=True, text=True, timeout=120)
