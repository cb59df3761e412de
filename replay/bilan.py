"""The post-event report ("bilan") a client receives: HTML with inline charts, Markdown, JSON.

`bilan_figures` reads every figure from the session file; this module words them (French or
English) and writes the three files. Chat text reaches the pages only through `inert` and the
template engine's escaping, never as markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from vigile.connectors.safe_text import inert
from vigile.replay.bilan_charts import all_charts
from vigile.replay.bilan_figures import DEFAULT_TARGET_S, BilanError, collect
from vigile.replay.bilan_words import Wording

__all__ = ["BilanError", "BilanFiles", "page_environment", "write_bilan"]

# Characters that could start markup in a Markdown cell; "(" and "!" only matter after "]".
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


@dataclass(frozen=True, slots=True)
class BilanFiles:
    html: Path
    markdown: Path
    json: Path
    figures: dict


def write_bilan(
    session: Path,
    out: Path,
    lang: str = "fr",
    tz: str = "UTC",
    target_s: float = DEFAULT_TARGET_S,
    labels: Path | None = None,
) -> BilanFiles:
    """Write bilan.html, bilan.md and bilan.json for `session` into `out`."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BilanError(f"unknown time zone {tz!r} (try Europe/Paris or UTC)") from exc
    if not session.is_file():
        raise BilanError(f"no session file at {session}")
    words = Wording(lang, zone)
    figures = collect(session, target_s, labels)
    generated_at = datetime.now(UTC).timestamp()
    figures |= {"generated_at": generated_at, "lang": lang, "time_zone": tz}
    context = {
        "f": figures,
        "w": words,
        "title": _title(figures, words) or session.stem,
        "generated_at": generated_at,
        "tz_name": tz,
        "version": _version(),
        "evidence": lambda alert: _evidence_text(alert, words),
        "change": lambda v: _change_text(v, words),
    }
    out.mkdir(parents=True, exist_ok=True)
    files = BilanFiles(out / "bilan.html", out / "bilan.md", out / "bilan.json", figures)
    html = _environment(words, autoescape=True).get_template("bilan.html.j2")
    files.html.write_text(html.render(context, charts=all_charts(figures, words)), "utf-8")
    markdown = _environment(words, autoescape=False).get_template("bilan.md.j2")
    files.markdown.write_text(markdown.render(context), "utf-8")
    files.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1), "utf-8")
    return files


def page_environment(words: Wording, *folders: Path) -> Environment:
    """The bilan's HTML environment (escaping on, its filters, its style to include) for a page
    whose template lives in one of `folders`: the archive's bilan over many events."""
    return _environment(words, autoescape=True, folders=folders)


def _environment(words: Wording, autoescape: bool, folders: tuple[Path, ...] = ()) -> Environment:
    env = Environment(
        loader=FileSystemLoader([*folders, Path(__file__).parent / "templates"]),
        autoescape=select_autoescape(default=autoescape, default_for_string=autoescape),
        undefined=StrictUndefined,  # a typo in a template fails loudly, not as an empty cell
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters["inert"] = lambda text: inert(str(text))
    env.filters["md"] = markdown_text
    env.filters["category"] = words.category
    env.filters["kind"] = words.kind
    env.filters["agent"] = words.agent
    env.filters["platform"] = words.platform
    return env


def markdown_text(text: object) -> str:
    """Chat text for a Markdown table cell: inert, one line, no markup, no cell breaks."""
    flat = inert(" ".join(str(text).split()))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _version() -> str:
    try:
        return version("vigile")
    except PackageNotFoundError:
        return "dev"


def _title(figures: dict, w: Wording) -> str:
    event = figures["event"]
    kind = event["kind"]
    names = [
        w.session_title(name, kind, replayed)
        for name, replayed in zip(event["names"], event["replayed"], strict=True)
    ]
    return " + ".join(dict.fromkeys(names))  # one title per distinct session


def _evidence_text(alert: dict, w: Wording) -> str:
    """One short line of what an alert saw."""
    e, parts = alert["evidence"], []
    fr = w.lang == "fr"
    if "raider" in e:
        parts.append(
            f"{'raid de' if fr else 'raid by'} {e['raider']} ({w.number(e.get('viewers'))})"
        )
    if "fresh_authors" in e and alert["kind"] == "raid":
        parts.append(
            f"{w.number(e['fresh_authors'])} {'nouveaux comptes' if fr else 'new accounts'}"
        )
    if "messages" in e:
        parts.append(f"{w.number(e['messages'])} messages")
    elif "messages_10s" in e:
        parts.append(f"{w.number(e['messages_10s'])} messages / 10 s")
    elif "messages_60s" in e:
        parts.append(f"{w.number(e['messages_60s'])} messages / 60 s")
    if "authors" in e and alert["kind"] != "raid":
        parts.append(f"{w.number(e['authors'])} {'auteurs' if fr else 'authors'}")
    if "flagged_share" in e:
        parts.append(f"{w.percent(e['flagged_share'])} {'signalés' if fr else 'flagged'}")
    return ", ".join(parts)


def _change_text(v: dict, w: Wording) -> str:
    """What a rules version changed: rules added, removed, and what changed inside the others."""
    parts = []
    if v["added"]:
        added = w("added_one") if len(v["added"]) == 1 else w("added")
        parts.append(f"+ {', '.join(v['added'])} ({added})")
    if v["removed"]:
        removed = w("removed_one") if len(v["removed"]) == 1 else w("removed")
        parts.append(f"− {', '.join(v['removed'])} ({removed})")
    for rule, change in v["changed"].items():
        details = []
        for key, diff in change.items():
            if "added" in diff:
                details += [f"{key} +{x}" for x in diff["added"]]
                details += [f"{key} −{x}" for x in diff["removed"]]
            else:
                details.append(f"{key} {diff['from']} → {diff['to']}")
        parts.append(f"{rule}: {'; '.join(details)}")
    return " · ".join(parts)
