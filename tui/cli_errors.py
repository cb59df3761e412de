"""How the `vigile` command line answers a failure it expects: one line, one exit status.

Every command runs through `run_command`, so a command only has to raise (or let through) one
of the classes below: `vigile COMMAND: FILE: REASON` goes to stderr, with status 2 for a
usage mistake (a bad argument, a file that is not what the command takes) and 1 for a failure
while working (a disk that refuses, a database that breaks). No traceback for these; anything
else is a bug and keeps its traceback.

A new command needs nothing more than its `cmd_` function (`main` runs it through here):

    def cmd_import(args):
        db = Path(args.db)
        require_writable(db)                  # not a folder, not a hub's file… (StoreError, 2)
        if not args.files:
            raise usage("name at least one archive")                # status 2
        with removed_on_failure(db):          # no half-written new file left behind
            ...                               # sqlite3.Error, OSError: one line, status 1
        raise CommandError("its chain is broken", db)               # status 1
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from vigile.filters.rules import RulePackError
from vigile.replay.files import StoreError

USAGE = 2
FAILURE = 1
INTERRUPTED = 130


class CommandError(Exception):
    """A failure the user can act on. `file`: what it concerns, shown before the reason."""

    def __init__(self, reason: str, file: str | Path | None = None, status: int = FAILURE):
        super().__init__(reason)
        self.reason, self.file, self.status = reason, file, status


def usage(reason: str, file: str | Path | None = None) -> CommandError:
    """A mistake in how the command was called (exit status 2)."""
    return CommandError(reason, file, USAGE)


def say(command: str, reason: str, file: str | Path | None = None) -> None:
    """One line on stderr in the command line's one form: `vigile COMMAND: FILE: REASON`."""
    where = f"{file}: " if file is not None else ""
    flat = " ".join(f"{where}{reason}".split())  # one line, whatever the reason held
    print(f"vigile {command}: {flat}", file=sys.stderr, flush=True)


def _answer(command: str, exc: BaseException, subject: str | None) -> int:
    if isinstance(exc, CommandError):
        say(command, exc.reason, exc.file)
        return exc.status
    if isinstance(exc, StoreError):
        say(command, exc.reason, exc.path or subject)
        return USAGE if exc.usage else FAILURE
    if isinstance(exc, RulePackError):
        say(command, str(exc))  # already `file:line: reason`
        return USAGE
    if isinstance(exc, sqlite3.Error):
        say(command, _sqlite_reason(exc), subject)
        return FAILURE
    if isinstance(exc, OSError):
        file = exc.filename if exc.filename is not None else subject
        say(command, exc.strerror or str(exc), file)
        return FAILURE
    raise exc  # not one of ours: a bug keeps its traceback


def _sqlite_reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return "is not a Vigile file (not a SQLite database)"
    if "no such table" in text:
        return f"is not a Vigile session ({text})"
    return text


EXPECTED = (CommandError, StoreError, RulePackError, sqlite3.Error, OSError)


def run_command(
    command: str, func: Callable[[argparse.Namespace], int], args: argparse.Namespace
) -> int:
    """Run one command; an expected failure becomes one line and an exit status."""
    subject = next(
        (str(getattr(args, name)) for name in ("file", "target") if getattr(args, name, None)),
        None,
    )
    try:
        return int(func(args))
    except KeyboardInterrupt:
        return INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`vigile check | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except EXPECTED as exc:
        return _answer(command, exc, subject)


_EXCLUSIVE = re.compile(r"argument (\S+): not allowed with argument (\S+)")


class Parser(argparse.ArgumentParser):
    """argparse, answering a usage mistake in the command line's one-line form."""

    def error(self, message: str) -> NoReturn:
        message = _EXCLUSIVE.sub(r"\2 and \1 do not go together: give one of them", message)
        message = message.removeprefix("argument ")
        command = self.prog.removeprefix("vigile").strip() or "vigile"
        prefix = "vigile " if command != "vigile" else ""
        print(f"{prefix}{command}: {message} (see {self.prog} --help)", file=sys.stderr, flush=True)
        sys.exit(USAGE)


# -- files a command creates -------------------------------------------------------------------


def remove_session(db: Path) -> None:
    """A session file and its WAL side files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


@contextlib.contextmanager
def removed_on_failure(db: Path) -> Iterator[None]:
    """A file this command creates is removed again if the command fails or is interrupted:
    no half-written byproduct stays behind. A file that was there before is never removed."""
    existed = Path(db).exists()
    try:
        yield
    except BaseException:
        if not existed:
            remove_session(db)
        raise


# -- argument types, worded for the user --------------------------------------------------------


def speed(value: str) -> float:
    """A pacing multiplier: 2, x0.5, ×10 — finite and above zero."""
    text = value.strip().lower().removeprefix("x").removeprefix("×")
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a speed; give a number above 0 such as 2, 0.5 or x10"
        )
    return number


def positive_number(what: str) -> Callable[[str], float]:
    """A finite number above zero, refused in the words of `what` it measures."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number <= 0:
            raise argparse.ArgumentTypeError(f"{value!r}: {what} is a number above 0")
        return number

    return parse
