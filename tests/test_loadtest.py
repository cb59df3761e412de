"""The load test as a user runs it, and the store surviving a killed process."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
KEYS = {
    "messages",
    "throughput_per_s",
    "latency_ms_p50",
    "latency_ms_p95",
    "latency_ms_p99",
    "dropped",
    "peak_rss_mib",
}


def test_loadtest_json_reports_every_figure(tiny_session: Path, tmp_path: Path) -> None:
    out = tmp_path / "run.db"
    done = subprocess.run(
        [*VIGILE, "loadtest", str(tiny_session), "--max", "--json", "--db", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert KEYS <= set(report)
    total = sqlite3.connect(tiny_session).execute("SELECT count(*) FROM messages").fetchone()[0]
    assert report["messages"] == total and report["dropped"] == 0
    assert report["throughput_per_s"] > 0
    assert 0 < report["latency_ms_p50"] <= report["latency_ms_p95"] <= report["latency_ms_p99"]
    stored = sqlite3.connect(out).execute("SELECT count(*) FROM messages").fetchone()[0]
    assert stored == total


def test_loadtest_paced_takes_the_recording_time_divided_by_speed(tiny_session, tmp_path) -> None:
    started = time.monotonic()
    command = [
        *VIGILE,
        "loadtest",
        str(tiny_session),
        "--speed",
        "10",
        "--json",
        "--db",
        str(tmp_path / "r.db"),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dropped"] == 0
    assert elapsed >= 0.6  # 7 s of chat at ×10, plus start-up


def test_loadtest_needs_a_pace_and_a_file(tmp_path: Path) -> None:
    missing = subprocess.run(
        [*VIGILE, "loadtest", str(tmp_path / "no.db"), "--max"], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no.db: no such file" in missing.stderr
    no_pace = subprocess.run(
        [*VIGILE, "loadtest", str(tmp_path / "no.db")], capture_output=True, text=True
    )
    assert no_pace.returncode == 2 and "--speed" in no_pace.stderr


WRITER = textwrap.dedent("""
    import asyncio, sys
    from vigile.connectors.model import ChatMessage
    from vigile.replay.store import SessionStore

    async def main():
        store = await SessionStore.open(sys.argv[1], batch_rows=200, batch_interval=0.05)
        await store.start_session("crash", "live", [])
        n = 0
        while True:
            for _ in range(100):
                store.add_message(ChatMessage("twitch", "c", f"m{n}", "a", "A", f"text {n}", n))
                n += 1
            if n == 2_000:
                print("committing", flush=True)
            await asyncio.sleep(0.001)

    asyncio.run(main())
""")


def test_a_killed_recorder_loses_at_most_its_last_batch(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert proc.stdout.readline().strip() == "committing"
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    ids = [row[0] for row in conn.execute("SELECT msg_id FROM messages ORDER BY seq")]
    assert len(ids) >= 2_000  # everything committed before the kill is there
    assert ids == [f"m{n}" for n in range(len(ids))]  # in order, no hole
    conn.close()
    verify = subprocess.run([*VIGILE, "verify", str(db)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
