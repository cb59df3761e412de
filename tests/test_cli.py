import json
import subprocess
import sys
from pathlib import Path

VIGILE = [sys.executable, "-m", "vigile.tui.cli"]
COMMANDS = [
    "demo",
    "watch",
    "record",
    "replay",
    "check",
    "scenario",
    "loadtest",
    "bilan",
    "export-evidence",
    "verify",
]


def test_help_lists_every_command() -> None:
    out = subprocess.run([*VIGILE, "--help"], capture_output=True, text=True, check=True).stdout
    for command in COMMANDS:
        assert command in out


def test_check_answers_one_json_line_per_input_line_in_order() -> None:
    lines = [
        "bonjour",
        "t'es qu'une salope",
        '{"text": "kill yourself", "id": 7}',
        "{broken",
        '{"txt": "no text key"}',
        "",
        "c'est combien ?",
    ]
    done = subprocess.run(
        [*VIGILE, "check"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(lines)
    assert answers[0]["flagged"] is False and answers[0]["priority"] == 0
    assert answers[1]["flagged"] and answers[1]["matches"][0]["category"] == "sexism"
    assert answers[1]["matches"][0]["span"] == [12, 18]
    assert answers[2]["id"] == 7 and answers[2]["action"] == "ban"
    assert "malformed JSON" in answers[3]["error"]
    assert "error" in answers[4]
    assert answers[5]["flagged"] is False
    assert answers[6]["action"] == "reply"
    for answer in answers[:3]:
        assert {"flagged", "priority", "action", "matches"} <= set(answer)


def test_check_streams_before_the_input_ends() -> None:
    proc = subprocess.Popen(
        [*VIGILE, "check"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
    )
    try:
        proc.stdin.write("kill yourself\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())  # would hang if check waited for EOF
        assert answer["flagged"]
        proc.stdin.write("hello\n")
        proc.stdin.flush()
        assert json.loads(proc.stdout.readline())["flagged"] is False
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_check_refuses_a_bad_pack_with_file_and_line(tmp_path: Path) -> None:
    pack = tmp_path / "bad.toml"
    pack.write_text('[[rules]]\nid = "x"\ncategory = "spam"\naction = "explode"\nterms = ["a"]\n')
    done = subprocess.run(
        [*VIGILE, "check", "--rules", str(pack)], input="a\n", capture_output=True, text=True
    )
    assert done.returncode == 2
    assert f"{pack}:4: rule 'x': unknown action 'explode'" in done.stderr


def test_check_uses_the_given_pack(tmp_path: Path) -> None:
    pack = tmp_path / "mine.toml"
    pack.write_text('[[rules]]\nid = "brand"\ncategory = "brand"\nterms = ["acme"]\n')
    done = subprocess.run(
        [*VIGILE, "check", "--rules", str(pack)],
        input="ACME rocks\nsalope\n",
        capture_output=True,
        text=True,
        check=True,
    )
    first, second = (json.loads(x) for x in done.stdout.splitlines())
    assert first["matches"][0]["rule"] == "brand" and not second["flagged"]


def test_check_answers_every_line_whatever_hostile_input_comes_first() -> None:
    """Deep nesting, ids of every shape and a line of megabytes: each gets its answer (or its
    error) and the lines after it are answered too, in bounded time."""
    nested = "[" * 254 + "]" * 254
    huge = 123456789012345678901234567890
    hostile = [
        f'{{"text": "hi", "id": {nested}}}',
        '{"text": "hi", "id": 1.5}',
        f'{{"text": "kill yourself", "id": {huge}}}',
        '{"text": "hi", "id": "a\\u001b[2Jb"}',
        "kill yourself " + "word " * 200_000,  # 1 MB of words
        '{"text": "x", "roles": ' + "[" * 300 + "]" * 300 + "}",
    ]
    valid = [json.dumps({"text": f"gg {n}", "id": n}) for n in range(100)]
    done = subprocess.run(
        [*VIGILE, "check"],
        input="\n".join(hostile + valid) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == len(hostile) + len(valid)
    assert "must be a string or an integer" in answers[0]["error"]
    assert "must be a string or an integer" in answers[1]["error"]
    assert answers[2]["id"] == huge and answers[2]["flagged"]
    assert answers[3]["id"] == "a\x1b[2Jb" and "\x1b" not in done.stdout  # escaped in JSON
    assert answers[4]["flagged"] and "long" in answers[4]["tags"]
    assert "error" in answers[5] or answers[5]["flagged"] is False
    assert [a["id"] for a in answers[len(hostile) :]] == list(range(100))
