"""Vigile's filter engine side by side with peers from PyPI, on the same pack and corpora.

    python bench/corpus.py && python bench/filters_bench.py [--json bench/out/filters.json]

Every tool runs in a fresh subprocess (so peak memory is its own) and gets the same 2,000 terms
and allow-list. Measured: load time, messages/s over stream.jsonl (100,000 lines), peak RSS,
recall per evasion family (evasions.jsonl) and false positives (benign.jsonl). For Vigile, the
figure that counts is `vigile check` end to end: JSON lines in, JSON lines out, one process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TOOLS = ("vigile", "profanex", "glin-profanity", "glin-profanity-obfuscation", "better-profanity")
STREAM_BUDGET_S = 30.0


def load_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (OUT / name).read_text("utf-8").splitlines()]


def make_checker(tool: str) -> Callable[[str], bool]:
    data = json.loads((OUT / "terms.json").read_text("utf-8"))
    terms, allow = data["terms"], data["allow"]
    if tool == "vigile":
        sys.path.insert(0, str(ROOT))
        from vigile.filters.rules import load_pack
        from vigile.filters.triage import Triage

        triage = Triage([load_pack(OUT / "pack-2000.toml")])
        return lambda text: triage.judge_text(text).flagged
    if tool == "profanex":
        import profanex

        config = profanex.FilterConfig(
            banned=terms,
            allowlist=allow,
            enable_fuzzy=True,
            normalize_leet=True,
            normalize_separated_runs=True,
            normalize_repeated_chars=True,
        )
        return profanex.Filter(config).contains
    if tool.startswith("glin-profanity"):
        import glin_profanity

        # glin-profanity always loads its own English list beside custom words. Run twice: with
        # its defaults, and with its evasion options on.
        config = {"languages": ["english"], "custom_words": terms, "whitelist": allow}
        if tool.endswith("obfuscation"):
            config |= {
                "detect_leetspeak": True,
                "normalize_unicode": True,
                "allow_obfuscated_match": True,
                "cache_results": True,
            }
        return glin_profanity.Filter(config).is_profane
    if tool == "better-profanity":
        from better_profanity import profanity

        profanity.load_censor_words(terms, whitelist_words=allow)
        return profanity.contains_profanity
    raise SystemExit(f"unknown tool {tool}")


def run_one(tool: str) -> dict[str, object]:
    """Inside the subprocess: every figure for one tool."""
    started = time.perf_counter()
    check = make_checker(tool)
    check("warm up")
    load_s = time.perf_counter() - started
    evasions, benign = load_jsonl("evasions.jsonl"), load_jsonl("benign.jsonl")
    caught: dict[str, list[bool]] = defaultdict(list)
    disguise_held: list[bool] = []  # lines whose plain form the tool lifts: disguised too?
    for row in evasions:
        lifted = bool(check(row["text"]))
        caught[row["family"]].append(lifted)
        if check(row["plain"]):
            disguise_held.append(lifted)
    false_positives = {
        family: [row["text"] for row in benign if row["family"] == family and check(row["text"])]
        for family in ("adversarial", "ordinary")
    }
    texts = [row["text"] for row in load_jsonl("stream.jsonl")]
    started = time.perf_counter()
    done = 0
    for done, text in enumerate(texts, start=1):  # noqa: B007
        check(text)
        if done % 1000 == 0 and time.perf_counter() - started > STREAM_BUDGET_S:
            break  # a slow tool is measured on the part of the stream it got through
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in caught.values())
    benign_counts = {f: sum(r["family"] == f for r in benign) for f in false_positives}
    return {
        "tool": tool,
        "load_s": round(load_s, 3),
        "messages_per_s": round(done / elapsed),
        "stream_lines": done,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "recall": round(sum(sum(v) for v in caught.values()) / total, 4),
        "recall_by_family": {f: round(sum(v) / len(v), 3) for f, v in caught.items()},
        "plain_lifted": len(disguise_held),
        "disguise_recall": round(sum(disguise_held) / max(1, len(disguise_held)), 4),
        "false_positive_rate": {
            f: round(len(hits) / benign_counts[f], 4) for f, hits in false_positives.items()
        },
        "false_positives": false_positives,
    }


def check_side_by_side(runs: int = 3, rounds: int = 2) -> list[dict[str, object]]:
    """`vigile check` and the peer as whole processes on the same 100,000 JSON lines (start-up
    included), alternating, best of `rounds` per run; and what each answered: recall on the
    planted terms, false positives on everyday chat."""
    source = (OUT / "stream.jsonl").read_bytes()
    planted = [json.loads(line)["planted"] for line in source.splitlines()]
    vigile = [str(Path(sys.executable).parent / "vigile"), "check", "--rules"]
    commands = {  # one process, and two (a second core reading new lines, whatever the load)
        "vigile check": [*vigile, str(OUT / "pack-2000.toml"), "--jobs", "1"],
        "vigile check --jobs 2": [*vigile, str(OUT / "pack-2000.toml"), "--jobs", "2"],
        "profanex + fuzzy": [sys.executable, str(Path(__file__).parent / "peer_check.py")],
    }
    for command in commands.values():  # the start-up caches are built once, before timing
        subprocess.run(command, input=b"", capture_output=True, check=True)
    results = []
    for run in range(1, runs + 1):
        best: dict[str, float] = {}
        answers: dict[str, list[bool]] = {}
        for _ in range(rounds):
            for name, command in commands.items():
                started = time.perf_counter()
                done = subprocess.run(command, input=source, capture_output=True, check=True)
                elapsed = time.perf_counter() - started
                best[name] = min(best.get(name, elapsed), elapsed)
                answers[name] = [json.loads(x)["flagged"] for x in done.stdout.splitlines()]
        row: dict[str, object] = {"run": run}
        for name, flagged in answers.items():
            assert len(flagged) == len(planted), f"{name}: one answer per line"
            hits = sum(f for f, p in zip(flagged, planted, strict=True) if p)
            false = sum(f for f, p in zip(flagged, planted, strict=True) if not p)
            row[name] = {
                "messages_per_s": round(len(planted) / best[name]),
                "seconds": round(best[name], 3),
                "recall": round(hits / sum(planted), 4),
                "false_positive_rate": round(false / (len(planted) - sum(planted)), 5),
            }
        row["ratio"] = round(best["profanex + fuzzy"] / best["vigile check"], 2)
        row["ratio_two_cores"] = round(best["profanex + fuzzy"] / best["vigile check --jobs 2"], 2)
        results.append(row)
    return results


def startup_seconds(runs: int = 10) -> dict[str, dict[str, float]]:
    """Start-up of `vigile --help`, of `vigile check` answering one line (starter packs, and
    the 2,000-term pack) and of the peer, caches warm: bench/startup_bench.py."""
    from startup_bench import startup_seconds as measured  # this script's folder, on sys.path

    return measured(runs)


def vigile_check_end_to_end(repeat: int = 5) -> dict[str, object]:
    """`vigile check` as a user runs it: the stream (5 × 100,000 lines) piped through one
    process, answers read back. Start-up (loading word lists and the pack) is timed apart on
    an empty input, and included in the end-to-end rate."""
    command = [
        str(Path(sys.executable).parent / "vigile"),
        "check",
        "--rules",
        str(OUT / "pack-2000.toml"),
    ]
    started = time.perf_counter()
    subprocess.run(command, input=b"", capture_output=True, check=True)
    startup = time.perf_counter() - started
    source = (OUT / "stream.jsonl").read_bytes() * repeat
    started = time.perf_counter()
    done = subprocess.run(command, input=source, capture_output=True, check=True)
    elapsed = time.perf_counter() - started
    lines = done.stdout.count(b"\n")
    assert lines == source.count(b"\n"), "one answer per line"
    return {
        "lines": lines,
        "seconds": round(elapsed, 2),
        "startup_s": round(startup, 2),
        "messages_per_s": round(lines / elapsed),
        "messages_per_s_after_startup": round(lines / (elapsed - startup)),
    }


def table(results: list[dict]) -> str:
    families = list(results[0]["recall_by_family"])
    head = ["family"] + [r["tool"] for r in results]
    rows = [head, ["---"] * len(head)]
    for family in families:
        rows.append([family] + [f"{r['recall_by_family'].get(family, 0):.0%}" for r in results])
    rows.append(["**recall (all evasions)**"] + [f"**{r['recall']:.1%}**" for r in results])
    rows.append(
        ["recall where the plain line is lifted"]
        + [f"{r['disguise_recall']:.1%} of {r['plain_lifted']:,}" for r in results]
    )
    for kind in ("adversarial", "ordinary"):
        rows.append(
            [f"false positives, {kind} benign"]
            + [f"{r['false_positive_rate'][kind]:.1%}" for r in results]
        )
    rows.append(["messages/s (in process)"] + [f"{r['messages_per_s']:,}" for r in results])
    rows.append(["peak RSS MiB"] + [str(r["peak_rss_mib"]) for r in results])
    rows.append(["load s"] + [str(r["load_s"]) for r in results])
    return "\n".join("| " + " | ".join(map(str, row)) + " |" for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", choices=TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--tools", nargs="*", default=list(TOOLS))
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    results = []
    for tool in args.tools:
        done = subprocess.run(
            [sys.executable, __file__, "--one", tool], capture_output=True, text=True
        )
        if done.returncode != 0:
            print(f"{tool}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(done.stdout))
    end_to_end = vigile_check_end_to_end() if "vigile" in args.tools else None
    side_by_side = check_side_by_side() if {"vigile", "profanex"} <= set(args.tools) else []
    startup = startup_seconds() if "vigile" in args.tools else {}
    print(table(results))
    for row in side_by_side:
        print(
            f"\nrun {row['run']}: vigile check / profanex + fuzzy = {row['ratio']}× "
            f"(with --jobs 2: {row['ratio_two_cores']}×; load {os.getloadavg()[0]:.1f})"
        )
        for name in ("vigile check", "vigile check --jobs 2", "profanex + fuzzy"):
            print(f"  {name}: {row[name]}")
    if startup:
        print(f"\nstart-up (10 runs each, caches warm): {startup}")
    if end_to_end:
        print(
            f"\n`vigile check` end to end (JSON in and out, one process): "
            f"{end_to_end['messages_per_s']:,} messages/s "
            f"({end_to_end['lines']:,} lines in {end_to_end['seconds']} s, of which "
            f"{end_to_end['startup_s']} s start-up; "
            f"{end_to_end['messages_per_s_after_startup']:,}/s after it)"
        )
    for r in results:
        for kind, hits in r["false_positives"].items():
            if hits:
                print(f"\n{r['tool']} false positives ({kind}): {hits[:12]}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "tools": results,
                    "vigile_check": end_to_end,
                    "check_side_by_side": side_by_side,
                    "startup_s": startup,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
