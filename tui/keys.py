"""Every key binding of the desk, by id: what the config file's [keys] table can remap."""

from __future__ import annotations

from textual.binding import Binding


def _screens() -> dict[str, list[type]]:
    from vigile.tui.app import VigileApp
    from vigile.tui.widgets.cards import CardScreen
    from vigile.tui.widgets.live_feed import LiveFeed
    from vigile.tui.widgets.priority_pane import PriorityPane
    from vigile.tui.widgets.rule_editor import RuleEditorScreen
    from vigile.tui.widgets.suggestion import SuggestionScreen
    from vigile.tui.widgets.twitch_screens import ConfirmScreen, ModLogScreen, UnbanScreen

    # Bindings on one screen share the keyboard; a key may mean one thing per screen.
    return {
        "desk": [VigileApp, PriorityPane, LiveFeed],
        "card": [CardScreen],
        "suggestion": [SuggestionScreen],
        "rule editor": [RuleEditorScreen],
        "confirm": [ConfirmScreen],
        "mod log": [ModLogScreen],
        "unban": [UnbanScreen],
    }


def desk_bindings() -> dict[str, tuple[str, Binding]]:
    """binding id → (screen, binding)."""
    found = {}
    for screen, classes in _screens().items():
        for cls in classes:
            for binding in cls.BINDINGS:
                if isinstance(binding, Binding) and binding.id:
                    found[binding.id] = (screen, binding)
    return found


def keys_table() -> str:
    rows = [f"{'id':<24} {'keys':<22} {'screen':<11} what it does"]
    for binding_id, (screen, b) in sorted(desk_bindings().items()):
        what = b.tooltip or b.description or b.action
        rows.append(f"{binding_id:<24} {b.key:<22} {screen:<11} {what}")
    return "\n".join(rows)
