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


def ensure_venv(extras: str = "test") -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs before any install
        sys.exit(f"Vigile needs Python 3.11 or newer (this is {sys.version.split()[0]}).")
    pyproject = (ROOT / "pyproject.toml").read_bytes()
    wanted = hashlib.sha256(pyproject + extras.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and PYTHON.exists():
        return
    if not PYTHON.exists():
        print(f"Creating {VENV} …", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    print("Installing Vigile and its dependencies …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[{extras}]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    python = str(PYTHON)
    tasks: dict[str, list[list[str]]] = {
        "demo": [[str(BIN / "vigile"), "demo"]],
        "test": [[python, "-m", "pytest"]],
        "lint": [
            [python, "-m", "ruff", "check", "."],
            [python, "-m", "ruff", "format", "--check", "."],
        ],
        "bench": [
            [python, "bench/corpus.py"],
            [python, "bench/quality.py", "--json", "bench/out/quality.json"],
            [python, "bench/filters_bench.py", "--json", "bench/out/filters.json"],
            [python, "bench/rule_swap_bench.py"],
            [python, "bench/signals_bench.py"],
        ],
        "setup": [],
    }
    if not argv or argv[0] not in tasks:
        print(f"usage: python3 tasks.py {{{'|'.join(tasks)}}} [extra arguments]", file=sys.stderr)
        return 2
    ensure_venv("test,bench" if argv[0] == "bench" else "test")
    for number, command in enumerate(tasks[argv[0]]):
        extra = argv[1:] if number == len(tasks[argv[0]]) - 1 else []
        code = subprocess.call([*command, *extra], cwd=ROOT)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
