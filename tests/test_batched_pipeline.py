"""The batched pipeline and store: every message taken is stored and sealed, even on Ctrl-C."""

import asyncio
import contextlib
from pathlib import Path

import pytest

from vigile.connectors.sources import SourceHub
from vigile.filters.rules import load_starter_packs
from vigile.filters.triage import Triage
from vigile.replay.pipeline import STORE_BACKLOG, Pipeline
from vigile.replay.player import ReplaySource
from vigile.replay.store import SessionStore
from vigile.replay.verify import verify_session


async def stored_ids(path: Path) -> list[str]:
    async with await SessionStore.open(path, readonly=True) as store:
        return [s.message.id async for s in store.messages()]


async def source_ids(path: Path) -> list[str]:
    return await stored_ids(path)


async def test_a_run_to_the_end_stores_and_seals_every_message_in_order(
    tmp_path: Path, tiny_session: Path
) -> None:
    out = tmp_path / "run.db"
    store = await SessionStore.open(out)
    await store.start_session("max", "replay", ["replay"])
    hub = SourceHub([ReplaySource(tiny_session, speed=None)], maxsize=50)
    pipeline = Pipeline(hub, Triage(load_starter_packs()), store, store_backlog=STORE_BACKLOG)
    stats = await pipeline.run()
    await store.close()
    expected = await source_ids(tiny_session)
    assert stats.messages == len(expected) > 200
    assert await stored_ids(out) == expected
    report = verify_session(out)
    assert report.intact and report.messages == len(expected)


@pytest.mark.parametrize("cut_after", [1, 60, 180])
async def test_ctrl_c_loses_no_message_already_taken(
    tmp_path: Path, tiny_session: Path, cut_after: int
) -> None:
    """Ctrl-C ends `asyncio.run` by cancelling every task at once: the pipeline, the sources
    and the store's writer, maybe inside a commit. Every message the pipeline had taken (its
    listeners saw it) is in the file, sealed, in order; the close seals the session's end."""
    out = tmp_path / "run.db"
    # small batches, often: a commit is under way when the cancellation comes
    store = await SessionStore.open(out, batch_rows=40, batch_interval=0.005)
    await store.start_session("max", "replay", ["replay"])
    hub = SourceHub([ReplaySource(tiny_session, speed=None)], maxsize=50)
    pipeline = Pipeline(hub, Triage(load_starter_packs()), store, store_backlog=STORE_BACKLOG)
    taken: list[str] = []
    pipeline.listeners.append(lambda item, _, seq: taken.append(item.id) if seq else None)
    enough = asyncio.Event()
    pipeline.listeners.append(lambda *_: enough.set() if len(taken) >= cut_after else None)
    running = asyncio.create_task(pipeline.run())
    await asyncio.wait(
        [running, asyncio.ensure_future(enough.wait())], return_when="FIRST_COMPLETED"
    )
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in others:  # what asyncio.run does on Ctrl-C, here to every task at once
        task.cancel()
    await store.close()  # as the load test's `finally` does
    for task in others:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(taken) >= cut_after
    assert await stored_ids(out) == taken
    report = verify_session(out)
    assert report.intact and report.messages == len(taken)
    assert (await source_ids(tiny_session))[: len(taken)] == taken
