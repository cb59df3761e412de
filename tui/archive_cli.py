"""The archive's commands on the command line: `vigile archive VERB`, `vigile verify URL` and
`vigile bilan --archive`, their failures answered in the command line's one form (cli_errors).

psycopg and the archive's modules load inside these functions only: `vigile --help` and
`vigile check` start without them."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from vigile.tui.cli_errors import FAILURE, CommandError, say, usage


@contextlib.contextmanager
def archive_failures() -> Iterator[None]:
    """The archive's errors as one line each: a usage mistake (a bad URL, a bad duration or
    date) exits 2; an archive that cannot be reached, refuses, or lacks what was asked exits 1.
    The URL is never repeated: it may carry a password."""
    import psycopg

    from vigile.archive.push import PushError
    from vigile.archive.schema import SchemaError

    try:
        yield
    except ValueError as exc:
        raise usage(str(exc)) from None
    except (PushError, SchemaError, LookupError) as exc:
        raise CommandError(str(exc).strip("'\"")) from None  # a KeyError's quotes
    except psycopg.Error as exc:
        raise CommandError(f"the archive refused: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def cmd_archive(args: argparse.Namespace) -> int:
    """`vigile archive VERB`: a file a push refuses is named on its own line, the others are
    pushed, and the command exits 1."""
    from vigile.archive.command import PushRefused, run_verb

    try:
        with archive_failures():
            return run_verb(args)
    except PushRefused as refused:
        for each in refused.refused:
            say("archive push", f"refused {each['refused']}")
        return FAILURE


def verify_in_archive(url: str, session: int | None) -> int:
    """`vigile verify postgresql://… --session ID`, worded as `vigile verify FILE` is."""
    from vigile.archive.push import connect
    from vigile.archive.verify import verify_archived
    from vigile.replay.verify import report

    if session is None:
        raise usage("give the archived session: --session ID (`vigile archive who` shows ids)")
    with archive_failures(), connect(url) as conn:
        result = verify_archived(conn, session)
    print("\n".join(report(result, "archived session")))
    return 0 if result.intact else 1


def archive_bilan(args: argparse.Namespace) -> int:
    """`vigile bilan --archive URL --client NAME --from DAY --to DAY --out DIR`."""
    from vigile.archive.bilan import write_archive_bilan
    from vigile.archive.command import archive_url
    from vigile.archive.push import connect
    from vigile.archive.spans import day_start
    from vigile.replay.bilan_figures import BilanError

    if not (args.client and args.date_from and args.date_to):
        raise usage("--archive needs --client, --from and --to")
    out = Path(args.out)
    try:
        with archive_failures():
            url = archive_url(args.archive)
            start, end = day_start(args.date_from), day_start(args.date_to, end=True)
            with connect(url) as conn:
                written = write_archive_bilan(
                    conn, args.client, start, end, out, args.lang, args.tz, args.target_minutes * 60
                )
    except BilanError as exc:
        raise usage(str(exc)) from None
    except OSError as exc:
        raise CommandError(f"cannot write the report: {exc.strerror or exc}", out) from None
    t = written.figures["totals"]
    print(
        f"{t['events']} events, {t['messages']:,} messages, {t['flagged']:,} flagged, "
        f"{t['actions']:,} actions → {written.html}, {written.markdown.name}, "
        f"{written.json.name}"
    )
    if not written.figures["evidence"]["intact"]:
        raise CommandError("an archived session's chain is broken (see the events table)")
    return 0
