"""The headless packages never pull in Textual or Rich: the load test and `check` run screenless."""

import subprocess
import sys

import pytest

HEADLESS = [
    "connectors.model",
    "connectors.hub",
    "filters.normalize",
    "filters.rules",
    "filters.matcher",
    "filters.triage",
    "filters.check",
    "filters.hits",
    "filters.lexicon",
    "filters.literals",
    "filters.watch",
    "replay.schema",
    "replay.loadtest",
    "replay.evidence",
    "replay.store",
    "replay.player",
    "replay.pipeline",
    "scenarios.format",
    "scenarios.generate",
    "team.protocol",
    "team.state",
    "team.server",
    "team.client",
    "team.command",
    "tui.cli",  # the command line itself: only `demo` and `replay` load the app
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


def test_the_probe_can_fail() -> None:
    """The same probe does see textual when a module imports it."""
    probe = "import sys, tui.app; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"
