"""Judgement on data the packs were not built from: labelled chat, real prose, bundled scenarios.

    python bench/quality.py                      # dev set, held-out set, prose, scenarios
    python bench/quality.py --sets dev --show    # one set, with every miss and false alarm
    python bench/quality.py --json bench/out/quality.json

- Labelled chat (bench/quality/*.jsonl): one JSON object per line with text, lang, label, role,
  author. `dev.jsonl` is the set rules are tuned on; `heldout-*.jsonl` were written apart, by
  other hands, and are only ever scored. Labels: hate, threat, insult, sexual, spam (lifted by
  the default packs), question (lifted as a question), profanity (lifted only with the optional
  profanity packs), borderline (not scored), ok.
- Prose (bench/out/prose/prose-{en,fr}.txt, made by bench/prose.py from Debian packages): every
  abuse flag is a false alarm; reported per 10,000 lines, and listed.
- Scenarios: the bundled scenarios' ground-truth labels.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from vigile.connectors.model import ChatMessage, Role, Verdict
from vigile.filters.rules import load_pack, load_starter_packs
from vigile.filters.triage import Triage
from vigile.scenarios.format import bundled_names, load_scenario
from vigile.scenarios.generate import generate

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "quality"
PROSE = ROOT / "bench" / "out" / "prose"

# What each rule category counts as, against the sets' labels.
GROUPS = {
    "racism": "hate",
    "sexism": "hate",
    "lgbtphobia": "hate",
    "ableism": "hate",
    "religion": "hate",
    "hate": "hate",
    "threat": "threat",
    "self-harm": "threat",
    "harassment": "insult",
    "insult": "insult",
    "sexual": "sexual",
    "spam": "spam",
    "scam": "spam",
    "link": "spam",
    "question": "question",
    "profanity": "profanity",
}
ABUSE = ("hate", "threat", "insult", "sexual", "spam")
# Who each set's chat belongs to: the streamer the desk protects.
STREAMERS = {
    ("dev", "en"): ("jessgames", "Jess"),
    ("dev", "fr"): ("ines_live", "Inès"),
    ("dev2", "en"): ("sophiecodes", "Sophie", "Rae", "raecasts"),
    ("dev2", "fr"): ("lea_gaming", "Léa", "Nadia", "nadia_direct"),
    ("dev3", "en"): ("kikovt", "Kiko", "Dana", "danaruns"),
    ("dev3", "fr"): ("manon_tv", "Manon", "Yasmine", "yasmine_foot", "Chloé", "chloe_makeup"),
    # dev4: one file, several channels (a caster, a cook, a shop, a talk show, a watch party…)
    ("dev4", "en"): (
        "novacasts",
        "Nova",
        "Kat",
        "Elena",
        "Maya",
        "Priya",
        "Tia",
        "Jess",
        "Chloe",
        "Mochi",
        "Rae",
    ),
    ("dev4", "fr"): (
        "manon_cuisine",
        "Manon",
        "Lyra",
        "Maude",
        "Clara",
        "Inès",
        "Sarah",
        "Yuki",
        "Laura",
        "Léa",
        "Ambre",
        "Zeph",
        "Kaiz",
    ),
    ("dev5", "fr"): (
        "maelys_fps",
        "Maëlys",
        "Camille",
        "Inès",
        "Sarah",
        "Anna",
        "Océane",
        "Claire",
        "Léa",
        "Djibril",
        "Rose",
        "Manon",
    ),
    ("heldout", "en"): ("mayaplays", "Maya"),
    ("heldout", "fr"): ("clarastream", "Clara"),
}
ROLES = {
    "broadcaster": {Role.BROADCASTER},
    "moderator": {Role.MODERATOR},
    "vip": {Role.VIP},
    "subscriber": {Role.SUBSCRIBER},
}


@dataclass
class Score:
    """Lift counts of one labelled set, per language."""

    total: Counter = field(default_factory=Counter)  # label → lines
    lifted: Counter = field(default_factory=Counter)  # label → lines lifted as abuse
    asked: Counter = field(default_factory=Counter)  # label → lines lifted as a question
    by_group: Counter = field(default_factory=Counter)  # group predicted → lines
    group_right: Counter = field(default_factory=Counter)  # … whose label is abuse
    misses: list = field(default_factory=list)
    false_alarms: list = field(default_factory=list)

    def recall(self, labels=ABUSE) -> float:
        n = sum(self.total[x] for x in labels)
        return sum(self.lifted[x] for x in labels) / n if n else 0.0

    def precision(self) -> float:
        flagged = sum(self.lifted[x] for x in self.lifted if x != "borderline")
        return sum(self.lifted[x] for x in ABUSE) / flagged if flagged else 1.0


def groups_of(verdict: Verdict, profanity: bool) -> set[str]:
    found = {GROUPS.get(m.category, m.category) for m in verdict.matches}
    if not profanity:
        found.discard("profanity")
    return found


def message(row: dict, set_name: str, number: int) -> ChatMessage:
    channel = STREAMERS.get((set_name, row["lang"]), ("channel",))[0]
    role = row.get("role", "viewer")
    return ChatMessage(
        platform="twitch",
        channel=channel,
        id=str(number),
        author_id=row.get("author", "someone"),
        author_name=row.get("author", "someone"),
        text=row["text"],
        sent_at=0.0,
        roles=frozenset(ROLES.get(role, ())),
    )


def score_set(triage: Triage, path: Path, profanity: bool) -> dict[str, Score]:
    set_name = path.stem if path.stem.startswith("dev") else "heldout"
    scores: dict[str, Score] = defaultdict(Score)
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    for number, row in enumerate(rows):
        label, score = row["label"], scores[row["lang"]]
        for name in STREAMERS.get((set_name, row["lang"]), ())[1:]:
            triage.protect(name)
        verdict = triage.judge(message(row, set_name, number))
        groups = groups_of(verdict, profanity)
        abuse = groups & set(ABUSE) or (groups & {"profanity"})
        score.total[label] += 1
        if abuse:
            score.lifted[label] += 1
            for group in abuse:
                score.by_group[group] += 1
                score.group_right[group] += label in ABUSE or (profanity and label == "profanity")
        if "question" in groups:
            score.asked[label] += 1
        expected = label in ABUSE or (profanity and label == "profanity")
        if expected and not abuse:
            score.misses.append((label, row["text"]))
        elif abuse and (label in ("ok", "question") or label == "profanity" and not profanity):
            rules = ", ".join(f"{m.rule_id}:{m.term}" for m in verdict.matches)
            score.false_alarms.append((label, row["text"], rules))
    return scores


def score_prose(triage: Triage, path: Path) -> tuple[int, list]:
    lines = path.read_text("utf-8").splitlines()
    flags = []
    for line in lines:
        verdict = triage.judge_text(line)
        if groups_of(verdict, profanity=False) & set(ABUSE) - {"spam"}:
            terms = ", ".join(
                f"{m.rule_id}:{line[m.span[0] : m.span[1]]!r}" for m in verdict.matches
            )
            flags.append((line, terms))
    return len(lines), flags


def score_scenarios(triage: Triage) -> dict[str, tuple[float, float]]:
    results = {}
    for name in bundled_names():
        if name.startswith("load"):
            continue
        scenario = load_scenario(name)
        hit = should = flagged = right = 0
        for item, label in generate(scenario):
            if label is None or not isinstance(item, ChatMessage):
                continue
            verdict = triage.judge(item)
            should += label.should_flag
            flagged += verdict.flagged
            hit += label.should_flag and verdict.flagged
            right += label.should_flag and verdict.flagged
        results[name] = (hit / should if should else 1.0, right / flagged if flagged else 1.0)
    return results


def percent(x: float) -> str:
    return f"{100 * x:.1f} %"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sets",
        nargs="*",
        default=["dev", "dev2", "dev3", "dev4", "dev5", "heldout", "prose", "scenarios"],
    )
    parser.add_argument("--rules", action="append", help="pack files instead of the starter packs")
    parser.add_argument("--profanity", action="store_true", help="add the optional profanity packs")
    parser.add_argument("--show", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    packs = [load_pack(p) for p in args.rules] if args.rules else load_starter_packs()
    if args.profanity:
        packs += load_starter_packs(optional=True)

    # Each set gets rules of its own: the names one set protects (its streamers) and the chat
    # language it settles on must not reach the next one.
    def fresh() -> Triage:
        return Triage(packs)

    report: dict = {"packs": [p.name for p in packs]}
    started = time.perf_counter()
    for set_name in ("dev", "dev2", "dev3", "dev4", "dev5", "heldout"):
        if set_name not in args.sets:
            continue
        pattern = "heldout-*.jsonl" if set_name == "heldout" else f"{set_name}.jsonl"
        for path in sorted(DATA.glob(pattern)):
            for lang, score in sorted(score_set(fresh(), path, args.profanity).items()):
                print(
                    f"\n{path.name} [{lang}]  recall {percent(score.recall())}  "
                    f"precision {percent(score.precision())}"
                )
                print(f"  {'label':<11}{'lines':>7}{'lifted':>9}{'as question':>13}")
                for label, n in score.total.most_common():
                    print(
                        f"  {label:<11}{n:>7}{percent(score.lifted[label] / n):>9}"
                        f"{percent(score.asked[label] / n):>13}"
                    )
                for group in ABUSE:
                    if flagged := score.by_group[group]:
                        right = percent(score.group_right[group] / flagged)
                        print(f"  flagged as {group:<8} {flagged:>5} lines, precision {right}")
                q = score.total["question"]
                asked = sum(score.asked.values())
                print(
                    f"  questions: recall {percent(score.asked['question'] / q if q else 0)}, "
                    f"precision {percent(score.asked['question'] / asked if asked else 1)}"
                )
                report[f"{path.stem}:{lang}"] = {
                    "recall": score.recall(),
                    "precision": score.precision(),
                    "lines": dict(score.total),
                    "lifted": dict(score.lifted),
                    "questions_recall": score.asked["question"] / q if q else 0,
                }
                if args.show:
                    for label, text in score.misses:
                        print(f"    MISS  {label:<9} {text}")
                    for label, text, rules in score.false_alarms:
                        print(f"    FALSE {label:<9} {text}  [{rules}]")
    if "prose" in args.sets:
        for folder in sorted(p for p in PROSE.iterdir() if p.is_dir()) if PROSE.exists() else []:
            total_lines, total_flags = 0, []
            print(f"\nprose [{folder.name}]")
            for path in sorted(folder.glob("*.txt")):
                lines, flags = score_prose(fresh(), path)
                total_lines += lines
                total_flags += flags
                print(
                    f"  {path.stem:<26}{lines:>8,} lines {len(flags):>5} flags "
                    f"{10_000 * len(flags) / max(lines, 1):>7.2f} per 10,000"
                )
                report[f"prose:{folder.name}:{path.stem}"] = {"lines": lines, "flags": len(flags)}
            rate = 10_000 * len(total_flags) / max(total_lines, 1)
            print(
                f"  {'all':<26}{total_lines:>8,} lines {len(total_flags):>5} flags "
                f"{rate:>7.2f} per 10,000"
            )
            report[f"prose:{folder.name}"] = {
                "lines": total_lines,
                "flags": len(total_flags),
                "per_10k": rate,
            }
            for line, terms in total_flags[: None if args.show else 10]:
                print(f"    {terms}  {line[:110]}")
        if not PROSE.exists():
            print("\nprose: no corpus yet (python bench/prose.py --out bench/out/prose)")
    if "scenarios" in args.sets:
        print()
        for name, (recall, _) in score_scenarios(fresh()).items():
            print(f"scenario {name:<22} recall {percent(recall)}")
            report[f"scenario:{name}"] = {"recall": recall}
    print(f"\n({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
