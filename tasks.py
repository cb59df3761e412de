#!/usr/bin/env python3
"""Set-up and everyday tasks with nothing but Python 3.11+ and pip: `python3 tasks.py demo|test`.

Creates `.venv` beside this file on first use, installs the project (editable, with its test
extras) and reinstalls whenever pyproject.toml changes; then runs the task inside that venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".vigile-installed"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any install
        sys.exit(f"Vigile needs Python 3.11 or newer (this is {sys.version.split()[0]}).")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"Creating {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("Installing Vigile and its dependencies …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    tasks = {
        "demo": [str(BIN / "vigile"), "demo"],
        "test": [str(PYTHON), "-m", "pytest"],
        "lint": [str(PYTHON), "-m", "ruff", "check", "."],
        "setup": None,
    }
    if not argv or argv[0] not in tasks:
        print(f"usage: python3 tasks.py {{{'|'.join(tasks)}}} [extra arguments]", file=sys.stderr)
        return 2
    ensure_venv()
    command = tasks[argv[0]]
    if command is None:
        return 0
    return subprocess.call([*command, *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
