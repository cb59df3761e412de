"""`vigile archive push|who|offenders|search|watchlist|prune`: the agency archive's commands."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from vigile.archive.spans import before_now
from vigile.archive.tables import table, when

if TYPE_CHECKING:
    import psycopg

URL_VARIABLE = "VIGILE_ARCHIVE_URL"


def archive_url(given: str | None) -> str:
    url = given or os.environ.get(URL_VARIABLE, "")
    if not url:
        raise ValueError(f"no archive: pass --archive postgresql://… or set {URL_VARIABLE}")
    if not url.startswith(("postgresql://", "postgres://")):
        raise ValueError("the archive is a PostgreSQL URL: postgresql://user@host:port/database")
    return url


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


class PushRefused(RuntimeError):
    """Files a push refused, each with its reason; the others were pushed."""

    def __init__(self, refused: list[dict[str, str]]) -> None:
        super().__init__(f"{len(refused)} file(s) refused")
        self.refused = refused


def run_verb(args: argparse.Namespace) -> int:
    """`vigile archive VERB`: the archive's URL checked, connected to, and the verb asked.
    Failures are raised (ValueError for a usage mistake, the archive's errors otherwise) for
    the command line to answer in its one form."""
    from vigile.archive.push import connect

    url = archive_url(args.archive)
    with connect(url) as conn:
        return int(args.archive_func(conn, args))


def _push(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive.push import PushError, push_file

    results, refused = [], []
    for name in args.files:
        try:
            pushed = push_file(conn, Path(name), args.client, args.event)
        except PushError as exc:
            refused.append({"file": name, "refused": str(exc)})
            continue
        results.append(pushed.as_json())
        if not args.json:
            added = ", ".join(f"{v:,} {k}" for k, v in pushed.added.items() if v) or "nothing new"
            proof = f"{pushed.proven_rows:,} sealed rows proven" + (
                f" after the archived head, link {pushed.proven_after:,}"
                if pushed.proven_after
                else ""
            )
            print(f"{name}: session {pushed.session_id} {pushed.status} ({added}; {proof})")
    if args.json:
        _print_json({"pushed": results, "refused": refused})
    if refused:
        raise PushRefused(refused)
    return 0


def _who(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive import queries

    found = queries.who(conn, args.account, args.limit)
    if args.json:
        _print_json(found)
        return 0 if found["identities"] else 1
    if not found["identities"]:
        print(f"{args.account}: never seen in the archive")
        return 1
    names = ", ".join(n["name"] for n in found["names"]) or args.account
    print(f"{args.account} — known as {names}")
    print("\nAppearances (newest first)")
    print(table(found["appearances"], APPEARANCE_COLUMNS))
    print("\nActions taken on this account")
    print(table(found["actions"], ACTION_COLUMNS) if found["actions"] else "none")
    print(f"\nMessages (newest {args.limit})")
    print(table(found["messages"], MESSAGE_COLUMNS))
    return 0


def _offenders(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive import queries

    since = before_now(args.since)
    rows = queries.offenders(
        conn, since.timestamp(), args.client, args.min_events, args.limit or None
    )
    if args.json:
        _print_json({"since": since.isoformat(), "client": args.client, "offenders": rows})
    elif rows:
        print(table(rows, OFFENDER_COLUMNS))
    else:
        print(f"no account acted on in {args.min_events}+ events since {when(since.timestamp())}")
    return 0


def _search(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive import queries

    since = before_now(args.since).timestamp() if args.since else None
    rows = queries.search(conn, args.text, args.limit, args.client, since)
    if args.json:
        _print_json({"query": args.text, "messages": rows})
    else:
        print(table(rows, SEARCH_COLUMNS) if rows else "no message matches")
    return 0


def _watchlist(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive.watchlist import Watchlist

    since = before_now(args.since).timestamp() if args.since else None
    listing = Watchlist.load(conn, since)
    if args.out:
        listing.save(Path(args.out))
        print(f"{len(listing):,} accounts → {args.out}")
    elif args.json:
        _print_json(listing.as_json())
    else:
        print(table(listing.rows, WATCH_COLUMNS))
    return 0


def _prune(conn: psycopg.Connection, args: argparse.Namespace) -> int:
    from vigile.archive.prune import prune

    report = prune(conn, before_now(args.older_than), args.dry_run)
    if args.json:
        _print_json(report)
        return 0
    verb = "would drop" if args.dry_run else "dropped"
    for month in report["months"]:
        print(f"{verb} {month['month']}: {month['sessions']} sessions, {month['messages']:,} msgs")
    if not report["months"]:
        print(f"nothing older than {report['cutoff'][:10]}")
    return 0


APPEARANCE_COLUMNS = [
    ("last_at", "last seen", 16),
    ("client", "client", 16),
    ("event", "event", 20),
    ("platform", "platform", 8),
    ("channel", "channel", 18),
    ("messages", "msgs", 7),
    ("flagged", "flagged", 7),
    ("deleted", "deleted", 7),
]
ACTION_COLUMNS = [
    ("ts", "when", 16),
    ("kind", "action", 8),
    ("duration_s", "secs", 6),
    ("client", "client", 16),
    ("event", "event", 20),
    ("moderator", "by", 14),
    ("reason", "reason", 30),
    ("result", "result", 9),
]
MESSAGE_COLUMNS = [
    ("sent_at", "sent", 16),
    ("event", "event", 16),
    ("channel", "channel", 14),
    ("priority", "prio", 4),
    ("categories", "flags", 16),
    ("text", "text", 60),
]
OFFENDER_COLUMNS = [
    ("platform", "platform", 8),
    ("name", "account", 20),
    ("author_id", "id", 14),
    ("events", "events", 6),
    ("bans", "bans", 4),
    ("timeouts", "timeouts", 8),
    ("deletions", "deletes", 7),
    ("clients", "clients", 24),
    ("last_at", "last", 16),
]
SEARCH_COLUMNS = [
    ("sent_at", "sent", 16),
    ("client", "client", 14),
    ("event", "event", 16),
    ("channel", "channel", 14),
    ("author_name", "author", 16),
    ("text", "text", 60),
]
WATCH_COLUMNS = [
    ("platform", "platform", 8),
    ("author_id", "id", 16),
    ("bans", "bans", 4),
    ("timeouts", "timeouts", 8),
    ("events", "events", 6),
    ("last_at", "last", 16),
    ("note", "on sight", 50),
]


def add_archive_parser(sub: Any, command: Callable[[argparse.Namespace], int]) -> None:
    """`vigile archive VERB`; `command` runs it (the command line's, answering failures)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--archive",
        "--to",
        dest="archive",
        metavar="URL",
        help=f"postgresql://user@host:port/database (default: ${URL_VARIABLE})",
    )
    parent.add_argument("--json", action="store_true", help="JSON on standard output")
    p = sub.add_parser("archive", help="the agency archive on PostgreSQL: push, who, offenders…")
    p.set_defaults(func=command)
    verbs = p.add_subparsers(dest="archive_command", required=True, metavar="VERB")

    v = verbs.add_parser("push", parents=[parent], help="verify and copy session files (bulk)")
    v.add_argument("files", nargs="+", metavar="SESSION.db")
    v.add_argument("--client", help="the client these sessions were for (kept in the archive)")
    v.add_argument("--event", help="the event's name (default: what was set when recording)")
    v.set_defaults(archive_func=_push)

    v = verbs.add_parser("who", parents=[parent], help="all the archive knows of an account")
    v.add_argument("account", help="author id, display name, or twitch:NAME / youtube:ID")
    v.add_argument("--limit", type=int, default=50, help="newest messages shown (default 50)")
    v.set_defaults(archive_func=_who)

    v = verbs.add_parser("offenders", parents=[parent], help="accounts acted on in 2+ events")
    v.add_argument("--since", default="30d", help="how far back: 12h, 30d, 2w, 13mo (default 30d)")
    v.add_argument("--client", help="only this client's events")
    v.add_argument("--min-events", type=int, default=2, help="events at least (default 2)")
    v.add_argument("--limit", type=int, default=100, help="most events first (default 100, 0: all)")
    v.set_defaults(archive_func=_offenders)

    v = verbs.add_parser("search", parents=[parent], help="full-text search, English and French")
    v.add_argument("text", help='words, "a phrase", -excluded, or')
    v.add_argument("--client", help="only this client's events")
    v.add_argument("--since", help="how far back: 12h, 30d, 13mo")
    v.add_argument("--limit", type=int, default=50, help="newest matches shown (default 50)")
    v.set_defaults(archive_func=_search)

    v = verbs.add_parser("watchlist", parents=[parent], help="accounts banned or timed out before")
    v.add_argument("--since", help="only sanctions this recent: 30d, 13mo (default: all)")
    v.add_argument("--out", help="write it to a file a desk without a connection loads")
    v.set_defaults(archive_func=_watchlist)

    v = verbs.add_parser("prune", parents=[parent], help="drop whole months past the retention")
    v.add_argument("--older-than", required=True, help="retention: 13mo, 1y, 400d")
    v.add_argument("--dry-run", action="store_true", help="say what would go, drop nothing")
    v.set_defaults(archive_func=_prune)


# -- the desk's and the recorder's options -----------------------------------------------------


def add_recording_options(p: argparse.ArgumentParser, pushes: bool, desk: bool = True) -> None:
    """--archive (and, for a live recording, --client/--event) and, for a desk, --watchlist."""
    if pushes:
        p.add_argument(
            "--archive",
            metavar="URL",
            help="push the session to the agency archive as it is recorded (postgresql://…)",
        )
        p.add_argument("--client", help="the client this event is for (kept with the session)")
        p.add_argument("--event", help="the event's name (kept with the session)")
    else:
        p.add_argument(
            "--archive",
            metavar="URL",
            help="load the agency archive's watchlist of known offenders (postgresql://…)",
        )
    if desk:
        p.add_argument("--watchlist", metavar="FILE", help="a watchlist exported by the archive")


def recording_info(args: argparse.Namespace) -> dict[str, str]:
    """The client and event names a live session carries."""
    names = {"client": getattr(args, "client", None), "event": getattr(args, "event", None)}
    return {key: value for key, value in names.items() if value}


def archive_link(args: argparse.Namespace, db_path: Path, pushes: bool) -> Any:
    """The ArchiveLink for --archive (ValueError for a bad URL), or None."""
    if not getattr(args, "archive", None):
        return None
    from vigile.archive.follow import ArchiveLink

    url = archive_url(args.archive)
    return ArchiveLink(
        url, db_path, getattr(args, "client", None), getattr(args, "event", None), push=pushes
    )


def watchlist_file(args: argparse.Namespace) -> Any:
    """The Watchlist of --watchlist FILE (ValueError naming the file), or None."""
    if not getattr(args, "watchlist", None):
        return None
    from vigile.archive.watchlist import Watchlist

    return Watchlist.read(Path(args.watchlist))
