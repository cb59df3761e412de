"""The peer's side of the `check` comparison: profanex with fuzzy matching, as a whole process
shaped like `vigile check` (JSON lines in, one JSON verdict per line out).

    python bench/peer_check.py < bench/out/stream.jsonl > answers.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import orjson
import profanex

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    data = json.loads((OUT / "terms.json").read_text("utf-8"))
    config = profanex.FilterConfig(
        banned=data["terms"],
        allowlist=data["allow"],
        enable_fuzzy=True,
        normalize_leet=True,
        normalize_separated_runs=True,
        normalize_repeated_chars=True,
    )
    contains = profanex.Filter(config).contains
    out = sys.stdout.buffer
    answers = []
    for raw in sys.stdin.buffer:
        line = orjson.loads(raw)
        answers.append(orjson.dumps({"flagged": contains(line["text"]), "id": line.get("id")}))
        if len(answers) >= 4096:
            out.write(b"\n".join(answers) + b"\n")
            answers.clear()
    if answers:
        out.write(b"\n".join(answers) + b"\n")


if __name__ == "__main__":
    main()
