"""The headless packages never pull in Textual or Rich: the load test and `check` run screenless."""

import subprocess
import sys

import pytest

HEADLESS = [
    "vigile.connectors.model",
    "vigile.connectors.sources",
    "vigile.connectors.connection",
    "vigile.connectors.google_http",
    "vigile.connectors.twitch_session",
    "vigile.connectors.twitch",
    "vigile.connectors.eventsub_frames",
    "vigile.connectors.eventsub_events",
    "vigile.connectors.twitch_eventsub",
    "vigile.tui.twitch_desk",
    "vigile.tui.lockdown",
    "vigile.connectors.youtube_session",
    "vigile.connectors.youtube",
    "vigile.filters.normalize",
    "vigile.filters.rules",
    "vigile.filters.matcher",
    "vigile.filters.patterns",
    "vigile.filters.phrases",
    "vigile.filters.reading",
    "vigile.filters.context",
    "vigile.filters.triage",
    "vigile.filters.names",
    "vigile.filters.check",
    "vigile.filters.hits",
    "vigile.filters.lexicon",
    "vigile.filters.literals",
    "vigile.filters.watch",
    "vigile.filters.alert_notice",
    "vigile.replay.schema",
    "vigile.replay.chain",
    "vigile.replay.reads",
    "vigile.replay.loadtest",
    "vigile.replay.evidence",
    "vigile.replay.verify",
    "vigile.replay.dossier",
    "vigile.replay.dossier_check",
    "vigile.replay.signing",
    "vigile.replay.store",
    "vigile.replay.player",
    "vigile.replay.pipeline",
    "vigile.replay.labels",
    "vigile.replay.importers.command",  # every reader, and the progress bar
    "vigile.tui.flagged",
    "vigile.tui.channel_commands",
    "vigile.tui.desk",  # the desk's behaviour: the app only draws it
    "vigile.scenarios.format",
    "vigile.scenarios.generate",
    "vigile.scenarios.background",
    "vigile.team.protocol",
    "vigile.team.state",
    "vigile.team.server",
    "vigile.team.client",
    "vigile.team.command",
    "vigile.tui.cli",  # the command line itself: only `demo` and `replay` load the app
    "vigile.tui.known",
    "vigile.tui.archive_cli",
    "vigile.archive.push",
    "vigile.archive.queries",
    "vigile.archive.follow",
    "vigile.archive.bilan",
    "vigile.archive.command",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_module_does_not_import_a_screen_library(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "", f"{module} imports {result.stdout.strip()}"


FOLDERS = ("connectors", "filters", "replay", "scenarios", "team", "tui")


def test_only_the_vigile_namespace_is_installed(tmp_path) -> None:
    """Run away from the checkout, the folders import as vigile.* and under no generic name."""
    probe = (
        "import importlib.util, sys, vigile.tui.cli, vigile.tui.app; "
        f"bare = [n for n in {FOLDERS!r} if n in sys.modules or importlib.util.find_spec(n)]; "
        "print(','.join(bare) or 'none', 'vigile.filters' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["none", "True"]


def test_the_probe_can_fail() -> None:
    """The same probe does see textual when a module imports it."""
    probe = "import sys, vigile.tui.app; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
