"""The agency archive at scale, on a real PostgreSQL started for the run (nothing to set up).

1. push: a session file of `--push-messages` messages (default 1,000,000), written as a desk
   writes it, verified and copied to the archive (rows/s); pushed again unchanged, again once
   the recording grew by `--grow` messages (default 10,000), and once it closed.
2. archive: `--messages` messages (default 10,000,000) over `--sessions` sessions (default 240)
   spread over twelve months, generated with COPY straight into the archive's schema (every
   row sealed by its session's chain, real indexes), with a recurring population of offenders
   acted on across events.
3. queries: `who`, `offenders`, the watchlist load and `search`, timed many times each.

    python bench/archive_bench.py [--json bench/out/archive.json] [--keep]
    python bench/archive_bench.py --push-only [--push-messages N] [--grow N]

Figures go to standard output (and --json). Disk: about 0.6 GB per million messages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from vigile.archive import queries
from vigile.archive.cluster import ThrowawayCluster
from vigile.archive.push import connect, month_of, push_file, session_uid
from vigile.archive.schema import SEARCH_VECTOR, ensure_month, message_columns
from vigile.archive.verify import verify_archived
from vigile.archive.watchlist import Watchlist
from vigile.connectors.model import ActionKind, ActionResult, ChatMessage, Match, ModAction, Verdict
from vigile.replay.chain import GENESIS_HASH, SEALED_KINDS, canonical_json, link_hash, row_digest
from vigile.replay.store import SessionStore
from vigile.replay.verify import verify_session

# A server as an agency would run it: durable commits, memory for a 2-vCPU, 24 GiB machine.
SETTINGS = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "2GB",
    "effective_cache_size": "12GB",
    "maintenance_work_mem": "512MB",
    "work_mem": "64MB",
    "max_wal_size": "16GB",
    "checkpoint_timeout": "30min",
}

WORDS_EN = (
    "gg nice play wow lol what a shot clutch insane team go let's hype pog when is next".split()
)
WORDS_FR = "trop bien joué incroyable allez l'équipe c'est quand la suite mdr énorme bravo".split()
CLIENTS = [f"client-{n:02d}" for n in range(16)]


RARE = ["arnaque", "phishing", "giveaways", "remboursement"]  # what an agency searches for


def text_for(rng: random.Random) -> str:
    words = WORDS_FR if rng.random() < 0.4 else WORDS_EN
    text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 9)))
    return f"{text} {rng.choice(RARE)}" if rng.random() < 1 / 20_000 else text


def regular(rng: random.Random) -> str:
    """The regulars: 200,000 accounts, a few of them posting in most events."""
    return f"r{int(200_000 * rng.random() ** 2)}"


# -- 1. one big push ----------------------------------------------------------------------------


class DeskRecording:
    """A desk recording one session of the bench's shape, kept open between writes so a push
    can run while the recording goes on (as `record --archive` pushes)."""

    def __init__(self, path: Path, rng: random.Random, count: int) -> None:
        self.path, self.rng, self.written = path, rng, 0
        self.start = datetime.now(UTC).timestamp() - count / 500
        self.store: SessionStore | None = None

    async def open(self) -> None:
        self.store = await SessionStore.open(self.path, batch_rows=5_000)
        await self.store.start_session(
            "bench-final", "live", ["twitch:bench"], {"client": "bench"}, self.start
        )

    async def write(self, count: int) -> None:
        """`count` more messages, all committed (and sealed) when it returns."""
        store, rng = self.store, self.rng
        assert store is not None
        match = Match("insult-1", "harassment", 3, (0, 4), "exact", "x")
        flagged = Verdict((match,), frozenset({"harassment"}), 70, "review", 1)
        for n in range(self.written, self.written + count):
            at = self.start + n / 500
            author = rng.randrange(200_000)
            message = ChatMessage(
                "twitch", "bench", f"m{n}", f"u{author}", f"viewer{author}", text_for(rng), at, at
            )
            store.add_message(message, flagged if n % 25 == 0 else None)
            if n % 1000 == 0:
                store.add_action(
                    ModAction(
                        ActionKind.TIMEOUT,
                        "twitch",
                        "bench",
                        "mod",
                        f"u{author}",
                        None,
                        600,
                        "",
                        at,
                        ActionResult.OK,
                    )
                )
            if store.pending >= 20_000:
                await store.caught_up(5_000)
        self.written += count
        await store.flush()

    async def close(self) -> None:
        assert self.store is not None
        await self.store.close()


def _timed_push(url: str, path: Path) -> tuple[object, float]:
    with connect(url) as conn:
        began = time.perf_counter()
        pushed = push_file(conn, path)
        return pushed, time.perf_counter() - began


async def _push_while_recording(url: str, path: Path, count: int, grow: int, rng) -> dict:
    desk = DeskRecording(path, rng, count + grow)
    await desk.open()
    began = time.perf_counter()
    await desk.write(count)
    written = time.perf_counter() - began
    began = time.perf_counter()
    checked = await asyncio.to_thread(verify_session, path)
    verified = time.perf_counter() - began
    assert checked.problem is None and checked.messages == count
    pushed, pushed_s = await asyncio.to_thread(_timed_push, url, path)
    again, again_s = await asyncio.to_thread(_timed_push, url, path)
    await desk.write(grow)
    grown, grown_s = await asyncio.to_thread(_timed_push, url, path)
    await desk.close()
    return {
        "checked": checked,
        "pushed": pushed,
        "write_file_s": written,
        "verify_s": verified,
        "push_s": pushed_s,
        "again": again,
        "again_s": again_s,
        "grown": grown,
        "grown_s": grown_s,
    }


def bench_push(url: str, folder: Path, count: int, grow: int, rng: random.Random) -> dict:
    path = folder / "big.db"
    run = asyncio.run(_push_while_recording(url, path, count, grow, rng))
    pushed, grown = run["pushed"], run["grown"]
    with connect(url) as conn:
        began = time.perf_counter()
        ended = push_file(conn, path)  # the session's end, sealed at close
        ended_s = time.perf_counter() - began
        began = time.perf_counter()
        proven = verify_archived(conn, pushed.session_id)
        proven_s = time.perf_counter() - began
    assert proven.problem is None and proven.messages == count + grow
    rows = sum(pushed.added.values())
    return {
        "messages": count,
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1e6),
        "write_file_s": round(run["write_file_s"], 1),
        "verify_s": round(run["verify_s"], 1),
        "push_s": round(run["push_s"], 1),
        "push_messages_per_s": round(count / run["push_s"]),
        "push_rows_per_s": round(rows / run["push_s"]),
        "push_again_s": round(run["again_s"], 2),
        "push_again_status": run["again"].status,
        "grown_by_messages": grow,
        "push_grown_s": round(run["grown_s"], 2),
        "push_grown_status": grown.status,
        "push_grown_rows": sum(grown.added.values()),
        "push_ended_s": round(ended_s, 2),
        "push_ended_status": ended.status,
        "verify_archived_s": round(proven_s, 1),  # laid back into a file, then walked
    }


# -- 2. a large archive ----------------------------------------------------------------------


def build_archive(url: str, messages: int, sessions: int, rng: random.Random) -> dict:
    """Sessions straight into the archive's tables with COPY: what many pushes would leave."""
    columns = message_columns()
    per_session = messages // sessions
    offenders = [f"o{n}" for n in range(20_000)]
    now = datetime.now(UTC)
    began = time.perf_counter()
    with connect(url) as conn:
        # Full-text indexing is most of a load's cost: built once at the end, as a bulk import
        # would; everything else (keys, author indexes) is maintained row by row.
        conn.execute("DROP INDEX messages_search")
        for number in range(sessions):
            start = (now - timedelta(days=365 * (sessions - number) / sessions)).timestamp()
            session = {
                "name": f"event-{number}",
                "kind": "live",
                "started_at": start,
                "sources": '["twitch:bench"]',
            }
            month = month_of(start)
            client = CLIENTS[number % len(CLIENTS)]
            with conn.transaction():
                ensure_month(conn, month)
                sid = conn.execute(
                    "INSERT INTO sessions(uid, month, name, kind, started_at, ended_at, sources,"
                    " info, client, event, messages)"
                    " VALUES (%s,%s,%s,'live',%s,%s,%s,'{}',%s,%s,%s) RETURNING id",
                    (
                        session_uid(session),
                        month,
                        session["name"],
                        start,
                        start + per_session / 20,  # as its sealed end says
                        session["sources"],
                        client,
                        f"{client} event {number}",
                        per_session,
                    ),
                ).fetchone()[0]
                _copy_session(conn, columns, month, sid, session, per_session, offenders, rng)
            if number % 20 == 19:
                done = (number + 1) * per_session
                rate = done / (time.perf_counter() - began)
                print(f"  {done:,} messages archived ({rate:,.0f}/s)", file=sys.stderr)
        loaded = time.perf_counter() - began
        print("  building the search index …", file=sys.stderr)
        index = f"CREATE INDEX messages_search ON messages USING gin ({SEARCH_VECTOR})"
        conn.execute(index.encode())
        built = time.perf_counter() - began
        conn.execute("ANALYZE")
        # every synthetic session is sealed as a desk seals it: two of them proven to show it
        began = time.perf_counter()
        for sid in (1, sessions):
            proven = verify_archived(conn, sid)
            assert proven.problem is None and proven.messages == per_session, proven.problem
        proven_s = (time.perf_counter() - began) / 2
        sizes = dict(
            conn.execute(
                "SELECT t, pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM ("
                " SELECT i.inhparent::regclass::text AS t, i.inhrelid AS oid FROM pg_inherits i"
                " WHERE i.inhparent::regclass::text IN ('messages','verdicts','actions','chain')) c"
                " GROUP BY t"
            ).fetchall()
        )
        total = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}".encode()).fetchone()[0]
            for t in ("sessions", "messages", "verdicts", "actions", "chain")
        }
        months = conn.execute("SELECT count(DISTINCT month) FROM sessions").fetchone()[0]
    return {
        "sessions": counts["sessions"],
        "messages": counts["messages"],
        "verdicts": counts["verdicts"],
        "actions": counts["actions"],
        "chain_links": counts["chain"],
        "months": months,
        "verify_archived_session_s": round(proven_s, 1),
        "load_s": round(loaded),
        "build_s": round(built),
        "build_messages_per_s": round(counts["messages"] / built),
        "size": {**sizes, "database": total.fetchone()[0]},
    }


class _Seals:
    """One synthetic session's chain, sealed as a desk's store seals it: every row a link, in
    the order the rows were written."""

    def __init__(self) -> None:
        self.previous = GENESIS_HASH
        self.links: list[tuple[int, str, int, str, str]] = []

    def seal(self, kind: str, values: tuple) -> str:
        digest = row_digest(kind, SEALED_KINDS[kind].stored(values))
        self.previous = link_hash(self.previous, digest)
        self.links.append((len(self.links) + 1, kind, values[0], digest, self.previous))
        return self.previous


MATCHES = canonical_json(
    [
        {
            "rule_id": "insult-1",
            "category": "harassment",
            "severity": 3,
            "span": [0, 4],
            "how": "exact",
            "term": "x",
        }
    ]
)


def _copy_session(
    conn,
    columns,
    month: date,
    sid: int,
    session: dict,
    count: int,
    offenders: list[str],
    rng: random.Random,
) -> None:
    """One event's rows, each sealed by a link of its session's chain (the session's start and
    end, every message, verdict and action), sent with COPY; the session's archived head set."""
    seals = _Seals()
    start = session["started_at"]
    seals.seal("session", (1, session["name"], "live", start, session["sources"], "{}"))
    verdicts: list[tuple] = []
    actions: list[tuple] = []
    statement = f"COPY messages (month, session_id, {', '.join(columns)}) FROM STDIN"
    # A few hundred recurring offenders per event, out of the same 20,000 across the year.
    present = rng.sample(offenders, 300)
    with conn.cursor().copy(statement.encode()) as copy:
        for seq in range(1, count + 1):
            at = start + seq / 20
            if rng.random() < 0.02:
                author = rng.choice(present)
            elif rng.random() < 0.8:
                author = regular(rng)
            else:
                author = f"t{rng.randrange(5_000_000)}"  # the long tail
            row = {
                "seq": seq,
                "platform": "twitch",
                "channel": "bench",
                "msg_id": f"{sid}-{seq}",
                "author_id": author,
                "author_name": f"name_{author}",
                "roles": "[]",
                "kind": "chat",
                "text": text_for(rng),
                "amount": None,
                "currency": None,
                "reply_to": None,
                "first_message": 0,
                "sent_at": at,
                "received_at": at + 0.2,
                "raw": "{}",
                "deleted_at": None,
                "file_session_id": 1,
            }
            values = tuple(
                row["file_session_id" if c == "session_id" else c]
                for c in SEALED_KINDS["message"].columns
            )
            row["hash"] = seals.seal("message", values)
            copy.write_row((month, sid, *(row[c] for c in columns)))
            if author.startswith("o") or rng.random() < 0.03:
                verdict = (seq, 1, 70, "review", '["harassment"]', MATCHES)
                seals.seal("verdict", verdict)
                verdicts.append(verdict)
                if author.startswith("o") and rng.random() < 0.5:
                    kind = (
                        "ban"
                        if rng.random() < 0.3
                        else "timeout"
                        if rng.random() < 0.7
                        else "delete"
                    )
                    action = (
                        len(actions) + 1,
                        1,
                        at + 30,
                        "twitch",
                        "bench",
                        kind,
                        "mod",
                        author,
                        f"{sid}-{seq}",
                        600 if kind == "timeout" else None,
                        "",
                        "ok",
                        "",
                    )
                    seals.seal("action", action)
                    actions.append(action)
    ended = start + count / 20
    seals.seal("session_end", (1, ended))
    with conn.cursor().copy(
        b"COPY verdicts (month, session_id, message_seq, rules_version, priority, action, tags,"
        b" matches) FROM STDIN"
    ) as copy:
        for verdict in verdicts:
            copy.write_row((month, sid, *verdict))
    with conn.cursor().copy(
        b"COPY actions (month, session_id, id, file_session_id, ts, platform, channel, kind,"
        b" moderator,"
        b" target_author_id, target_message_id, duration_s, reason, result, detail) FROM STDIN"
    ) as copy:
        for action in actions:
            copy.write_row((month, sid, *action))
    with conn.cursor().copy(
        b"COPY chain (month, session_id, link, kind, ref, digest, hash) FROM STDIN"
    ) as copy:
        for link in seals.links:
            copy.write_row((month, sid, *link))
    conn.execute(
        "INSERT INTO file_sessions (month, session_id, id, name, kind, started_at, ended_at,"
        " sources, info) VALUES (%s, %s, 1, %s, 'live', %s, %s, %s, '{}')",
        (month, sid, session["name"], start, ended, session["sources"]),
    )
    conn.execute(
        "UPDATE sessions SET head_seq = %s, head_hash = %s, head_link = %s, link_hash = %s"
        " WHERE id = %s",
        (count, row["hash"], len(seals.links), seals.previous, sid),
    )


# -- 3. the questions -----------------------------------------------------------------------


def timed(call, runs: int) -> dict:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    return {
        "runs": runs,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * runs) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def bench_queries(url: str, rng: random.Random) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        regulars = [regular(rng) for _ in range(100)]
        offenders = [f"o{rng.randrange(20_000)}" for _ in range(100)]
        heavy = conn.execute("SELECT count(*) FROM messages WHERE author_id = 'r0'").fetchone()[0]
        accounts = iter(regulars + offenders)
        month_ago = (datetime.now(UTC) - timedelta(days=30)).timestamp()
        year_ago = (datetime.now(UTC) - timedelta(days=395)).timestamp()
        watch = Watchlist.load(conn)
        return {
            "who_regular": timed(lambda: queries.who(conn, next(accounts)), 100),
            "who_offender": timed(lambda: queries.who(conn, next(accounts)), 100),
            "who_by_name": timed(lambda: queries.who(conn, f"name_o{rng.randrange(20_000)}"), 50),
            "who_heaviest_account_messages": heavy,
            # as `vigile archive offenders` asks: the 100 with the most events
            "offenders_30d": timed(lambda: queries.offenders(conn, month_ago, limit=100), 30),
            "offenders_30d_client": timed(
                lambda: queries.offenders(conn, month_ago, rng.choice(CLIENTS), limit=100), 30
            ),
            "offenders_13mo": timed(lambda: queries.offenders(conn, year_ago, limit=100), 10),
            "offenders_13mo_all": timed(lambda: queries.offenders(conn, year_ago), 3),
            "offenders_30d_count": len(queries.offenders(conn, month_ago)),
            "watchlist_load": timed(lambda: Watchlist.load(conn), 10),
            "watchlist_accounts": len(watch),
            "search_rare_word": timed(lambda: queries.search(conn, rng.choice(RARE)), 20),
            "search_rare_word_stemmed": timed(lambda: queries.search(conn, "rembourser"), 5),
        }


def _report(figures: dict, path: str | None) -> None:
    print(json.dumps(figures, indent=1))
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(figures, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push-messages", type=int, default=1_000_000)
    parser.add_argument("--grow", type=int, default=10_000, help="messages added, then pushed")
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--sessions", type=int, default=240)
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument("--keep", action="store_true", help="leave the server's folder behind")
    parser.add_argument("--push-only", action="store_true", help="only the push of one session")
    parser.add_argument("--skip-push", action="store_true", help="only the archive's questions")
    args = parser.parse_args()
    rng = random.Random(24)
    cluster = ThrowawayCluster(SETTINGS)
    url = cluster.start()
    work = Path(tempfile.mkdtemp(prefix="vigile-archive-bench-"))
    figures: dict = {"machine": "2-vCPU shared Xeon, Python 3.11", "settings": SETTINGS}
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE push_bench")
            conn.execute("CREATE DATABASE archive_bench")
        base = url.rsplit("/", 1)[0]
        if not args.skip_push:
            print(f"1. pushing a {args.push_messages:,}-message session …", file=sys.stderr)
            figures["push"] = bench_push(
                f"{base}/push_bench", work, args.push_messages, args.grow, rng
            )
            print(json.dumps(figures["push"], indent=1), file=sys.stderr)
        if args.push_only:
            _report(figures, args.json)
            return 0
        print(f"2. an archive of {args.messages:,} messages …", file=sys.stderr)
        figures["archive"] = build_archive(
            f"{base}/archive_bench", args.messages, args.sessions, rng
        )
        print(json.dumps(figures["archive"], indent=1), file=sys.stderr)
        print("3. questions …", file=sys.stderr)
        figures["queries"] = bench_queries(f"{base}/archive_bench", rng)
        _report(figures, args.json)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if args.keep:
            print(f"server left running in {cluster.folder} at {url}", file=sys.stderr)
        else:
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
