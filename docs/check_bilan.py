#!/usr/bin/env python3
"""Check the bilan in a real browser: rehearse a scenario on the real desk, write the report in
French and English, open each in headless Chromium and check what a client would see.

    apt install chromium            # Debian's package: /usr/bin/chromium
    pip install -e '.[docs]'        # Playwright drives that Chromium (no browser download)
    python docs/check_bilan.py [--scenario esports-raid] [--speed 15] [--keep DIR]

Checks, for each language: no word of the other language (the lists of
tests/test_bilan_language.py) outside quoted chat, nothing is fetched from anywhere (no request
but the page itself), no console error, the three charts drawn with a size, no sideways
scrolling at 1,000 px, every section present, the JSON's totals shown in the language's number
format, and a printable PDF.
Writes docs/bilan-fr.png (the screenshot the README shows) and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_bilan_language import ENGLISH, FRENCH, words_of  # noqa: E402
from vigile.filters.rules import load_starter_packs  # noqa: E402
from vigile.filters.triage import Triage  # noqa: E402
from vigile.replay.bilan import write_bilan  # noqa: E402
from vigile.replay.bilan_words import Wording  # noqa: E402
from vigile.replay.pipeline import SessionPlan  # noqa: E402
from vigile.replay.player import ReplaySource  # noqa: E402
from vigile.scenarios.format import load_scenario  # noqa: E402
from vigile.scenarios.generate import write_session  # noqa: E402
from vigile.tui.app import VigileApp  # noqa: E402
from vigile.tui.widgets.priority_pane import PriorityPane  # noqa: E402
from vigile.tui.widgets.suggestion import SuggestionScreen  # noqa: E402

SECTIONS = ("event", "moderation", "threats", "filters", "evidence", "rehearsal")
# A moderator working the queue: mostly deletions, some bans and timeouts, a few dismissals.
KEYS = ("x", "x", "b", "x", "d", "t", "x", "w")


async def rehearse(scenario: str, speed: float, folder: Path) -> Path:
    """The scenario replayed on the real desk (headless) while a scripted moderator works."""
    source, run = folder / f"{scenario}.db", folder / f"{scenario}-rehearsal.db"
    for path in (source, run):
        path.unlink(missing_ok=True)
    await write_session(load_scenario(scenario), source)
    plan = SessionPlan(
        f"{scenario} (rehearsal)",
        "rehearsal",
        [ReplaySource(source, speed)],
        run,
        {"replay_of": str(source), "speed": speed},
    )
    app = VigileApp(plan, Triage(load_starter_packs(), author="file", origin="file"), "lea")
    keys, applied = itertools.cycle(KEYS), False
    async with app.run_test(size=(160, 45)) as pilot:
        pane = app.query_one(PriorityPane)
        while app.pipeline is None or not all(
            s.state == "ended" for s in app.pipeline.hub.statuses()
        ):
            await pilot.pause(0.35)
            if not applied and app.desk.suggestion() is not None:  # a hijacked hashtag: rule it
                await pilot.press("a")
                await pilot.pause(0.3)
                if isinstance(app.screen, SuggestionScreen):
                    await pilot.press("enter")
                    applied = True
                continue
            if pane.items:
                pane.focus()
                await pilot.press(next(keys))
        for _ in range(10):  # the chat is over, the queue is not
            pane.focus()
            await pilot.press(next(keys))
            await pilot.pause(0.2)
        await pilot.press("q")
    return run


def _ended(app: VigileApp) -> bool:
    return app.pipeline is not None and all(s.state == "ended" for s in app.pipeline.hub.statuses())


def check_page(html: Path, figures: dict, lang: str, screenshot: Path | None) -> list[str]:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto(html.as_uri(), wait_until="load")
        remote = [u for u in fetched if u != html.as_uri() and not u.startswith("data:")]
        if remote:
            problems.append(f"fetched {remote[:3]}")
        sizes = page.evaluate(
            "[...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect())"
            ".map(r => [Math.round(r.width), Math.round(r.height)])"
        )
        if len(sizes) != 3 or any(w < 200 or h < 100 for w, h in sizes):
            problems.append(f"expected 3 drawn charts, got sizes {sizes}")
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            problems.append("the page scrolls sideways at 1,000 px")
        for section in SECTIONS:
            if not page.locator(f"section#{section} h2").is_visible():
                problems.append(f"section {section} missing or hidden")
        text = page.inner_text("body")
        # what a reader sees, less the chat's own words (quoted as written) and the hashes
        shown = page.evaluate(
            "(() => { const b = document.body.cloneNode(true);"
            " b.querySelectorAll('.chat, .hash, code, style').forEach(e => e.remove());"
            " return b.innerText; })()"
        )
        foreign = words_of(shown.replace(str(html.parent.parent), "")) & (
            ENGLISH if lang == "fr" else FRENCH
        )
        if foreign:
            problems.append(f"words of the other language: {sorted(foreign)}")
        words = Wording(lang)
        for label, value in (
            ("messages", figures["event"]["messages"]),
            ("flagged", figures["moderation"]["flagged"]),
            ("actions", figures["moderation"]["actions"]),
        ):
            if words.number(value) not in text:
                problems.append(f"{label} total {words.number(value)} not shown")
        if figures["evidence"]["chain_head"]["hash"] not in text:
            problems.append("the sealing hash is not shown")
        pdf = page.pdf(format="A4", print_background=False)
        pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
        if pages < 2:
            problems.append(f"the printed report has {pages} page(s)")
        print(
            f"  {html.parent.name}: {len(sizes)} charts, printed on {pages} A4 pages, "
            f"{len(fetched)} request(s), {len(problems)} problem(s)"
        )
        if screenshot:
            page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="esports-raid")
    parser.add_argument("--speed", type=float, default=15.0)
    parser.add_argument("--keep", type=Path, help="keep the session and reports here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="vigile-bilan-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"rehearsing {args.scenario} at ×{args.speed:g} on the desk …")
    run = asyncio.run(rehearse(args.scenario, args.speed, folder))
    problems = []
    for lang in ("fr", "en"):
        files = write_bilan(run, folder / f"bilan-{lang}", lang=lang, tz="Europe/Paris")
        figures = json.loads(files.json.read_text("utf-8"))
        shot = ROOT / "docs" / "bilan-fr.png" if lang == "fr" else None
        problems += [f"{lang}: {p}" for p in check_page(files.html, figures, lang, shot)]
    r = figures["rehearsal"]
    print(
        f"  rehearsal: {figures['moderation']['actions']} actions, caught {r['caught']} of "
        f"{r['should_act']}, {r['false_actions']} false; reports in {folder}"
    )
    for problem in problems:
        print(f"FAIL {problem}")
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
