"""Rule packs: the human-edited TOML format, its validation, and errors that name file and line."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vigile.filters import disk_cache
from vigile.filters.patterns import pattern_problem
from vigile.filters.rule_regex import RuleRegexError, compile_rule_regex

ACTIONS = ("review", "hide", "ban", "reply")
ROLES = ("broadcaster", "moderator", "vip", "subscriber", "bot")
# Categories whose rules spare the channel's own people unless the rule says otherwise: the
# broadcaster, moderators, VIPs and the channel's bots post links and promotions all stream long.
PROMOTION_CATEGORIES = frozenset({"link", "spam", "scam", "selfpromo"})
STAFF = ("broadcaster", "moderator", "vip", "bot")
SCOPES = ("text", "names")
_TIMEOUT = re.compile(r"timeout:(\d+)\Z")
_RULE_KEYS = {
    "id",
    "category",
    "severity",
    "action",
    "terms",
    "hashtags",
    "allow",
    "regex",
    "fuzzy",
    "lang",
    "description",
    "patterns",
    "directed",
    "undirected_severity",
    "asked",
    "exempt",
    "scope",
    "examples",
    "spares",
}


class RulePackError(ValueError):
    """A pack that cannot be used, with where and why, in the `file:line: reason` form."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    severity: int
    action: str
    terms: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    regex: str | None = None
    fuzzy: int | None = None  # None: edits by term length; 0: exact only; N: at most N edits
    lang: str | None = None
    description: str = ""
    patterns: tuple[str, ...] = ()  # word patterns with gaps and choices (filters/patterns.py)
    directed: bool = False  # counts only when aimed at someone: you, @name, a reply, the streamer
    undirected_severity: int = 0  # a directed rule's weight when aimed at no one; 0: no match
    asked: bool = False  # counts only in a line that asks ("is the hoodie cotton?")
    exempt: frozenset[str] = frozenset()  # roles the rule never applies to
    scope: str = "text"  # "names": display names and logins instead of messages
    examples: tuple[str, ...] = ()  # what the rule is for: each must be flagged by it
    spares: tuple[str, ...] = ()  # and what it must leave alone


@dataclass(frozen=True, slots=True)
class RulePack:
    name: str
    version: int
    rules: tuple[Rule, ...]
    origin: str = "<memory>"  # file path or where the edit came from
    text: str = ""  # the TOML it was parsed from, kept for versioning


def _line_of(text: str, needle: str) -> int | None:
    """Best-effort line of something in the source: tomllib does not report positions."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def _table_line(text: str, key: str) -> int | None:
    """The line where a top-level table or key is opened: [key], [[key]], [key.sub] or key =."""
    opened = re.compile(rf"\s*(\[\[?\s*{re.escape(key)}\s*[\].]|{re.escape(key)}\s*=)")
    for number, line in enumerate(text.splitlines(), start=1):
        if opened.match(line):
            return number
    return None


_RULE_HEADER = re.compile(r"\s*\[\[\s*rules\s*\]\]")
_KEY = re.compile(r"\s*([\w-]+)\s*=")


def _rule_key_lines(text: str) -> list[dict[str, int]]:
    """For each [[rules]] table in order: its keys and the line each is on ("" is the header)."""
    tables: list[dict[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _RULE_HEADER.match(line):
            tables.append({"": number})
        elif line.lstrip().startswith("["):
            tables.append({})  # another table: keys below it are not a rule's
        elif tables and (key := _KEY.match(line)):
            tables[-1].setdefault(key[1], number)
    return [t for t in tables if "" in t]


def _str_list(value: Any, what: str, fail: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"{what} must be a list of strings", what)
    cleaned = tuple(v.strip() for v in value)
    if any(not v for v in cleaned):
        fail(f"{what} contains an empty string", what)
    return cleaned


def regex_problem(pattern: str) -> str | None:
    """Why a rule's regex cannot be used (does not compile on RE2, or needs backtracking)."""
    try:
        compile_rule_regex(pattern)
    except RuleRegexError as exc:
        return str(exc)
    return None


def _parse_rule(raw: Any, index: int, file: str, lines: dict[str, int]) -> Rule:
    rule_id = raw.get("id") if isinstance(raw, dict) else None

    def fail(reason: str, key: str = "") -> None:
        label = f"rule {rule_id!r}" if isinstance(rule_id, str) else f"rule #{index + 1}"
        raise RulePackError(file, lines.get(key) or lines.get(""), f"{label}: {reason}")

    if not isinstance(raw, dict):
        fail("must be a table ([[rules]])")
    if not isinstance(rule_id, str) or not re.fullmatch(r"[\w.:-]+", rule_id):
        fail("needs an id made of letters, digits, '_', '-', '.' or ':'", "id")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        fail(f"unknown key(s): {', '.join(sorted(unknown))}", min(unknown))
    category = raw.get("category")
    if not isinstance(category, str) or not category.strip():
        fail("needs a category", "category")
    severity = raw.get("severity", 3)
    if not isinstance(severity, int) or isinstance(severity, bool) or not 1 <= severity <= 5:
        fail(f"severity must be a whole number from 1 to 5, not {severity!r}", "severity")
    action = raw.get("action", "review")
    if not isinstance(action, str) or not (action in ACTIONS or _TIMEOUT.match(action)):
        fail(
            f"unknown action {action!r} (use review, hide, timeout:SECONDS, ban or reply)", "action"
        )
    terms = _str_list(raw.get("terms", []), "terms", fail)
    hashtags = _str_list(raw.get("hashtags", []), "hashtags", fail)
    allow = _str_list(raw.get("allow", []), "allow", fail)
    pattern = raw.get("regex")
    if pattern is not None:
        if not isinstance(pattern, str) or not pattern:
            fail("regex must be a non-empty string", "regex")
        problem = regex_problem(pattern)
        if problem:
            fail(problem, "regex")
    patterns = _str_list(raw.get("patterns", []), "patterns", fail)
    for written in patterns:
        problem = pattern_problem(written)
        if problem:
            fail(f"pattern {written!r}: {problem}", "patterns")
    if not (terms or hashtags or pattern or patterns):
        fail("needs at least one of terms, patterns, hashtags or regex")
    directed = raw.get("directed", False)
    if not isinstance(directed, bool):
        fail("directed must be true or false", "directed")
    undirected = raw.get("undirected_severity", 0)
    if not isinstance(undirected, int) or isinstance(undirected, bool) or not 0 <= undirected <= 5:
        fail("undirected_severity must be a whole number from 0 to 5", "undirected_severity")
    if undirected and not directed:
        fail("undirected_severity only applies to a directed rule", "undirected_severity")
    asked = raw.get("asked", False)
    if not isinstance(asked, bool):
        fail("asked must be true or false", "asked")
    default_exempt = STAFF if category.strip().lower() in PROMOTION_CATEGORIES else ()
    exempt = _str_list(raw.get("exempt", list(default_exempt)), "exempt", fail)
    unknown_roles = set(exempt) - set(ROLES)
    if unknown_roles:
        roles = ", ".join(sorted(unknown_roles))
        fail(f"exempt: unknown role(s) {roles} (use {', '.join(ROLES)})", "exempt")
    scope = raw.get("scope", "text")
    if scope not in SCOPES:
        fail(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}", "scope")
    examples = _str_list(raw.get("examples", []), "examples", fail)
    spares = _str_list(raw.get("spares", []), "spares", fail)
    fuzzy = raw.get("fuzzy", True)
    if isinstance(fuzzy, bool):
        fuzzy = None if fuzzy else 0
    elif not isinstance(fuzzy, int) or not 0 <= fuzzy <= 3:
        fail("fuzzy must be true, false or a number of edits from 0 to 3", "fuzzy")
    lang = raw.get("lang")
    if lang is not None and not isinstance(lang, str):
        fail("lang must be a language code such as 'fr' or 'en'", "lang")
    return Rule(
        id=rule_id,
        category=category.strip().lower(),
        severity=severity,
        action=action,
        terms=terms,
        hashtags=tuple(h if h.startswith("#") else f"#{h}" for h in hashtags),
        allow=allow,
        regex=pattern,
        fuzzy=fuzzy,
        lang=lang,
        description=str(raw.get("description", "")),
        patterns=patterns,
        directed=directed,
        undirected_severity=undirected,
        asked=asked,
        exempt=frozenset(exempt),
        scope=scope,
        examples=examples,
        spares=spares,
    )


MAX_PACK_BYTES = 4 << 20  # a 5,000-term pack is about 200 kB


def parse_pack(text: str, file: str = "<memory>") -> RulePack:
    if len(text) > MAX_PACK_BYTES:
        raise RulePackError(file, None, f"pack too large: over {MAX_PACK_BYTES >> 20} MiB")
    # tomllib's own code, compiled: a 5,000-term pack parses four times faster. Loaded here: a
    # start with the parsed packs in the disk cache never needs it.
    import tomli

    try:
        data = tomli.loads(text)
    except RecursionError:  # arrays in arrays hundreds deep: no rule pack looks like that
        raise RulePackError(file, None, "TOML nested too deeply to be a rule pack") from None
    except tomli.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        line = int(match[1]) if match else None
        if line is None and "end of document" in str(exc):
            line = text.count("\n") + (not text.endswith("\n"))
        raise RulePackError(file, line, f"TOML syntax: {exc}") from exc
    unknown = sorted(set(data) - {"pack", "rules"})
    if unknown:  # [[rule]] for [[rules]] would otherwise be a pack with no rules at all
        raise RulePackError(
            file,
            _table_line(text, unknown[0]),
            f"unknown table or key {unknown[0]!r}: a pack holds [pack] and [[rules]]",
        )
    header = data.get("pack", {})
    if not isinstance(header, dict):
        raise RulePackError(file, _line_of(text, "pack"), "[pack] must be a table")
    name = header.get("name", Path(file).stem)
    version = header.get("version", 1)
    if not isinstance(name, str) or not isinstance(version, int):
        raise RulePackError(
            file, _line_of(text, "[pack]"), "pack name must be text, version a number"
        )
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        raise RulePackError(
            file, _line_of(text, "rules"), "rules must be an array of tables ([[rules]])"
        )
    key_lines = _rule_key_lines(text)
    rules = tuple(
        _parse_rule(raw, i, file, key_lines[i] if i < len(key_lines) else {})
        for i, raw in enumerate(raw_rules)
    )
    check_unique_ids(rules, file, [t.get("id") for t in key_lines])
    return RulePack(name=name, version=version, rules=rules, origin=file, text=text)


def check_unique_ids(
    rules: tuple[Rule, ...], file: str, id_lines: list[int | None] | None = None
) -> None:
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        if rule.id in seen:
            line = id_lines[index] if id_lines and index < len(id_lines) else None
            raise RulePackError(file, line, f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)


def load_pack(path: str | Path) -> RulePack:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_PACK_BYTES:
            raise RulePackError(str(path), None, f"pack too large: over {MAX_PACK_BYTES >> 20} MiB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError(str(path), None, f"cannot read: {exc}") from exc
    return _parsed(text, str(path))


def _parsed(text: str, origin: str) -> RulePack:
    """parse_pack for a pack read from a file at start-up, read from the disk cache when this
    very text was parsed and validated before by this very code."""
    key = disk_cache.digest("pack", disk_cache.code_digest(), origin, text)
    pack = disk_cache.load("pack", key)
    if not isinstance(pack, RulePack):
        pack = parse_pack(text, origin)
        disk_cache.store("pack", key, pack, keep=64)
    return pack


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one rename: a watcher never reads half a pack."""
    temporary = path.with_name(f".{path.name}.vigile-tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# The starter packs, one per policy and language, so a client picks what applies. Profanity is
# optional: only a family-friendly channel lifts swearing aimed at no one.
POLICIES = ("hate", "threats", "insults", "creator", "scams", "shopping")
OPTIONAL_POLICIES = ("profanity",)
STARTER_PACKS = tuple(f"{policy}-{lang}.toml" for policy in POLICIES for lang in ("en", "fr"))
OPTIONAL_PACKS = tuple(f"{p}-{lang}.toml" for p in OPTIONAL_POLICIES for lang in ("en", "fr"))


def starter_pack(name: str) -> RulePack:
    """One bundled pack by name ("creator-fr" or "creator-fr.toml")."""
    file = name if name.endswith(".toml") else f"{name}.toml"
    if file not in STARTER_PACKS + OPTIONAL_PACKS:
        known = ", ".join(p.removesuffix(".toml") for p in STARTER_PACKS + OPTIONAL_PACKS)
        raise RulePackError(f"starter:{name}", None, f"no such starter pack (there are: {known})")
    from importlib import resources

    text = (resources.files("vigile.filters") / "packs").joinpath(file).read_text("utf-8")
    return _parsed(text, f"starter:{file}")


def load_packs(spec: str | Path) -> list[RulePack]:
    """What --rules and the config's `packs` name: a pack file, `starter` (every default
    starter pack) or `starter:NAME` (one of them, the optional ones included)."""
    text = str(spec)
    if text == "starter":
        return load_starter_packs()
    if text.startswith("starter:"):
        return [starter_pack(text.removeprefix("starter:"))]
    return [load_pack(spec)]


def load_starter_packs(optional: bool = False) -> list[RulePack]:
    """The packs shipped inside the package: every default policy, English and French; with
    `optional`, the optional ones instead."""
    return [starter_pack(n) for n in (OPTIONAL_PACKS if optional else STARTER_PACKS)]
