"""`vigile check` remembers the answers to lines of text alone: a remembered answer must be the
one the line would get judged afresh, as the chat's language and the rules change."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from vigile.filters.check import Answers, answer
from vigile.filters.rules import load_starter_packs, parse_pack
from vigile.filters.triage import Triage

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
FRENCH = "je suis pas d'accord avec toi mais c'est vraiment bien joué quand même"
ENGLISH = "i think that you are right and this is a really good play by them"


def both_ways(lines: list[str]) -> tuple[list[bytes], list[bytes]]:
    """The answers of a remembering reader, and of a fresh judgement of every line, each with
    its own rules, fed the same lines in the same order."""
    remembering = Answers(Triage(load_starter_packs()))
    fresh = Triage(load_starter_packs())
    return [remembering(line.encode()) for line in lines], [answer(fresh, line) for line in lines]


def test_a_repeated_line_is_answered_as_in_the_chat_it_now_is_in() -> None:
    # "con" alone is an insult in French chat, and English's "con" (a con artist) elsewhere.
    lines = ["con", *[FRENCH] * 30, "con", *[ENGLISH] * 200, "con"]
    remembered, fresh = both_ways(lines)
    assert remembered == fresh
    answers = [orjson.loads(remembered[n]) for n in (0, 31, 232)]
    assert [a["flagged"] for a in answers] == [False, True, False]


def test_remembered_answers_match_fresh_ones_for_every_kind_of_line() -> None:
    lines = [
        "t'es qu'une salope",
        '{"text": "kill yourself", "id": 7}',
        '{"text": "kill yourself", "id": 8}',
        '{"text": "kill yourself", "author": "someone"}',
        "{broken",
        '{"txt": "no text key"}',
        "",
        "c'est combien ?",
    ]
    remembered, fresh = both_ways(lines * 3)
    assert remembered == fresh
    assert orjson.loads(remembered[2])["id"] == 8


def test_an_edit_to_the_rules_is_not_answered_from_memory() -> None:
    triage = Triage(
        [parse_pack('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["alpha"]\n', "a")]
    )
    remembering = Answers(triage)
    assert orjson.loads(remembering(b"buy bravo now"))["flagged"] is False
    triage.swap(
        [parse_pack('[[rules]]\nid = "b"\ncategory = "spam"\nterms = ["bravo"]\n', "b")], "x", "t"
    )
    assert orjson.loads(remembering(b"buy bravo now"))["matches"][0]["rule"] == "b"


def many_lines(count: int) -> str:
    """Distinct lines, some of them abusive: enough new texts for a second process to read."""
    kinds = ["good game number {n} well played", "t'es qu'une salope {n}", "{n} kill yourself"]
    return "".join(kinds[n % 3].format(n=n) + "\n" for n in range(count))


def test_two_processes_answer_exactly_as_one() -> None:
    given = many_lines(3000) + '{"text": "k i l l yourself", "id": 1}\n' + many_lines(3000)
    answers = {
        jobs: subprocess.run(
            [*VIGILE, "check", "--jobs", jobs], input=given, capture_output=True, text=True
        )
        for jobs in ("1", "2")
    }
    assert answers["1"].returncode == answers["2"].returncode == 0
    assert answers["1"].stdout == answers["2"].stdout
    assert answers["1"].stdout.count('"flagged":true') >= 4001  # and a number or two: 88


def test_a_second_process_reads_with_the_rules_swapped_in() -> None:
    triage = Triage(
        [parse_pack('[[rules]]\nid = "a"\ncategory = "spam"\nterms = ["alpha"]\n', "a")]
    )
    remembering = Answers(triage, second_process=True)
    try:
        first = [f"bravo {n} alpha".encode() for n in range(200)]
        remembering.read_ahead(first)
        assert all(orjson.loads(remembering(raw))["flagged"] for raw in first)
        triage.swap(
            [parse_pack('[[rules]]\nid = "b"\ncategory = "spam"\nterms = ["bravo"]\n', "b")],
            "x",
            "t",
        )
        second = [f"bravo {n} again".encode() for n in range(200)]
        remembering.read_ahead(second)
        assert all(orjson.loads(remembering(raw))["matches"][0]["rule"] == "b" for raw in second)
    finally:
        remembering.close()


def test_a_second_process_gone_midway_loses_no_line() -> None:
    fresh = Triage(load_starter_packs())
    remembering = Answers(Triage(load_starter_packs()), second_process=True)
    batches = [[line.encode() for line in many_lines(300).splitlines()[n::3]] for n in range(3)]
    try:
        answers = []
        for number, batch in enumerate(batches):
            if number == 1:
                os.kill(remembering._ahead._process.pid, signal.SIGKILL)
                remembering._ahead._process.join()
            remembering.read_ahead(batch)
            answers += [remembering(raw) for raw in batch]
        assert remembering._ahead is None  # not used again
    finally:
        remembering.close()
    expected = [answer(fresh, raw.decode()) for batch in batches for raw in batch]
    assert answers == expected


def children_of(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


def test_the_second_process_leaves_when_check_is_killed() -> None:
    proc = subprocess.Popen(
        [*VIGILE, "check", "--jobs", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        proc.stdin.write(many_lines(500).encode())
        proc.stdin.flush()
        for _ in range(500):
            proc.stdout.readline()  # every line answered: the second process has started
        helpers = children_of(proc.pid)
        assert len(helpers) == 1
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while running(helpers[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(helpers[0])


def running(pid: int) -> bool:
    """Alive, not a zombie waiting for whoever inherited it to collect it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
