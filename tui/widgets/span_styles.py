"""A Line-API widget's component classes as Rich styles for parts of a line, from the theme."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


class SpanStyles:
    """`styles["flag"]` is the widget's `<prefix>flag` component class as a span style.

    A span keeps only what its class sets (its colours resolved against the theme and the
    widget's background, its text style), so a row style applied under it, such as a cursor's
    background, still shows. Resolved once per style update: the widget calls `clear` from
    `notify_style_update` (a theme switch, a focus change, CSS reloaded).
    """

    def __init__(self, widget: Widget, prefix: str) -> None:
        self._widget, self._prefix = widget, prefix
        self._resolved: dict[str, Style] = {}

    def __getitem__(self, name: str) -> Style:
        style = self._resolved.get(name)
        if style is None:
            component = self._prefix + name
            own = self._widget.get_component_rich_style(component, partial=True)
            # The partial style has the class's own colours unresolved (alpha, `auto`); the full
            # one resolves them but also carries what the widget sets: keep the first's choice
            # of attributes with the second's values.
            full = self._widget.get_component_rich_style(component)
            colours = Style(
                color=full.color if own.color is not None else None,
                bgcolor=full.bgcolor if own.bgcolor is not None else None,
            )
            style = self._resolved[name] = own.without_color + colours
        return style

    def clear(self) -> None:
        self._resolved.clear()
