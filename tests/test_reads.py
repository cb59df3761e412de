"""The store's named reads: each runs on a real session file and gives its rows by name."""

import re
from pathlib import Path
from typing import NamedTuple

import pytest

from vigile.replay import reads
from vigile.replay.reads import Read, SessionFile

NAMED = {name: read for name, read in vars(reads).items() if isinstance(read, Read)}
# reads of a run beside its labelled source, attached as `src`
ACROSS = {name for name, read in NAMED.items() if "src." in read.sql}


@pytest.mark.parametrize("name", sorted(NAMED))
def test_every_named_read_runs_on_a_session_file(name: str, tiny_session: Path) -> None:
    read = NAMED[name]
    placeholders = re.sub(r"'[^']*'", "", read.sql).count("?")  # not a '?' literal
    params = ("twitch", "nobody")[:placeholders]
    source = tiny_session if name in ACROSS else None
    with SessionFile(tiny_session, labelled_source=source) as session:
        rows = session.all(read, *params)
    assert all(isinstance(row, read.row) for row in rows)


def test_a_read_whose_columns_are_not_its_fields_is_refused(tiny_session: Path) -> None:
    class Swapped(NamedTuple):
        hash: str
        seq: int

    with SessionFile(tiny_session) as session, pytest.raises(TypeError, match="Swapped"):
        session.all(Read(Swapped, "SELECT seq, hash FROM messages"))


def test_json_columns_come_back_parsed(tiny_session: Path) -> None:
    with SessionFile(tiny_session) as session:
        (first, *_) = session.all(reads.SESSIONS)
        assert isinstance(first.source_names, list) and isinstance(first.details, dict)
        (count,) = session.all(reads.MESSAGE_COUNT)
        exported = session.all(reads.EXPORT_ALL)
    assert len(exported) == count.value > 0
    assert all(isinstance(row.raw, dict) for row in exported)
