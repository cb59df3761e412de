"""The bilan's charts, drawn by matplotlib as SVG text to inline in the page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")  # no screen: draw to files only

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from vigile.replay.bilan_words import Wording  # noqa: E402

PLATFORM_COLOURS = {"twitch": "#9146ff", "youtube": "#e62117", "scenario": "#4a6fa5"}
FLAGGED_COLOUR = "#d97706"
# One hue and one line style per alert kind, apart from each other and from the bars and the
# flagged line (Okabe-Ito colours, told apart with colour-blindness too); each kind is also
# labelled on the chart itself, at its first line.
ALERT_STYLES = {
    "raid": ("#000000", "-"),
    "flood": ("#0072b2", "--"),
    "copypasta": ("#009e73", ":"),
    "rising-hashtag": ("#cc79a7", "-."),
    "rising-term": ("#56b4e9", (0, (5, 1, 1, 1))),
    "author-burst": ("#e69f00", (0, (1, 3))),
}
# Text in the SVG stays text, drawn by the reader's fonts: a stack that ends in emoji fonts, so a
# name or hashtag with an emoji falls back to one instead of an empty box.
FONT_STACK = [
    "DejaVu Sans",
    "Helvetica Neue",
    "Arial",
    "Noto Sans",
    "Noto Color Emoji",
    "Apple Color Emoji",
    "Segoe UI Emoji",
    "sans-serif",
]
STYLE = {
    "svg.fonttype": "none",  # text stays text: smaller, selectable, the page's own font
    "svg.hashsalt": "vigile",  # the same figures draw the same file
    "font.family": "sans-serif",
    "font.sans-serif": FONT_STACK,  # written as the SVG text's font-family
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
}


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # inline: no XML prolog or doctype


def _numbers(words: Wording) -> FuncFormatter:
    return FuncFormatter(lambda value, _: words.number(value))


def rate_chart(figures: dict, words: Wording) -> str | None:
    series = figures["series"]
    if not series["minutes"]:
        return None
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.4))
        times = [datetime.fromtimestamp(m, UTC) for m in series["minutes"]]
        bottom = [0] * len(times)
        for platform, counts in series["messages_by_platform"].items():
            ax.bar(
                times,
                counts,
                width=1 / 1440 * 0.9,
                bottom=bottom,
                align="edge",
                color=PLATFORM_COLOURS.get(platform, "#64748b"),
                alpha=0.55,
                label=words.platform(platform),
            )
            bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
        # a step is drawn from each minute to the next: one more point carries the last minute
        # through to its end, where the bars end too
        ends = [*times, datetime.fromtimestamp(series["minutes"][-1] + 60, UTC)]
        flagged = [*series["flagged"], series["flagged"][-1]]
        ax.step(
            ends,
            flagged,
            where="post",
            color=FLAGGED_COLOUR,
            linewidth=1.6,
            label=words("flagged"),
        )
        # Alerts of one kind share a colour and a line style; each kind is named once, on a
        # lane of its own above the plot at its first line, so kinds raised in the same minute
        # never write over each other.
        lanes: dict[str, int] = {}
        above = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        for alert in figures["threats"]["alerts"]:
            kind = alert["kind"]
            colour, style = ALERT_STYLES.get(kind, ("#374151", "--"))
            raised = mdates.date2num(datetime.fromtimestamp(alert["raised_at"], UTC))
            ax.axvline(raised, linewidth=1.1, linestyle=style, color=colour)
            if kind not in lanes:
                lane = lanes[kind] = len(lanes)
                height = 1.03 + 0.075 * lane
                ax.plot(
                    [raised, raised], [1.0, height], transform=above, clip_on=False,
                    color=colour, linestyle=style, linewidth=1.1,
                )  # fmt: skip
                ax.text(
                    raised, height, f" {words.kind(kind)}", transform=above, va="center",
                    ha="left", fontsize=8, color=colour, fontweight="bold",
                )  # fmt: skip
        ax.set_xlim(times[0], ends[-1])
        ax.xaxis.set_major_locator(_minute_ticks(len(times), words))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=words.tz))
        ax.yaxis.set_major_formatter(_numbers(words))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(words("per_minute"))
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            fontsize=8,
            frameon=False,
            ncols=min(6, len(series["messages_by_platform"]) + 1),
        )
        return _svg(fig)


def _minute_ticks(minutes: int, words: Wording) -> mdates.MinuteLocator:
    """Ticks on whole minutes, at most about ten, so an axis never repeats the same HH:MM."""
    step = next((n for n in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360) if minutes / n <= 10), 720)
    if step >= 60:
        return mdates.HourLocator(interval=step // 60, tz=words.tz)
    return mdates.MinuteLocator(byminute=range(0, 60, step), tz=words.tz)


def category_chart(figures: dict, words: Wording) -> str | None:
    by_category = figures["moderation"]["flagged_by_category"]
    if not by_category:
        return None
    with plt.rc_context(STYLE):
        names = [words.category(c) for c in by_category][::-1]
        counts = list(by_category.values())[::-1]
        fig, ax = plt.subplots(figsize=(6, 0.4 * len(names) + 0.8))
        bars = ax.barh(names, counts, color=FLAGGED_COLOUR)
        ax.bar_label(bars, labels=[words.number(c) for c in counts], padding=3, fontsize=8)
        ax.xaxis.set_major_formatter(_numbers(words))
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(words("messages"))
        return _svg(fig)


def response_chart(figures: dict, words: Wording) -> str | None:
    times = figures["moderation"]["response_times"]
    seconds = times["seconds"]
    if not seconds:
        return None
    in_minutes = max(seconds) > 180
    scale = 60 if in_minutes else 1
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(6, 2.8))
        ax.hist(
            [s / scale for s in seconds], bins=min(30, max(5, len(seconds) // 3)), color="#2563eb"
        )
        target = times["target_s"] / scale
        ax.axvline(
            target,
            color="#b91c1c",
            linestyle="--",
            label=f"{words('target')} {words.duration(times['target_s'])}",
        )
        ax.set_xlabel(words("minutes") if in_minutes else words("seconds"))
        ax.set_ylabel(words("items"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(
            FuncFormatter(lambda v, _: words.number(v, 0 if v % 1 == 0 else 1))
        )
        ax.legend(frameon=False, fontsize=8)
        return _svg(fig)


def all_charts(figures: dict, words: Wording) -> dict[str, str | None]:
    return {
        "rate": rate_chart(figures, words),
        "categories": category_chart(figures, words),
        "response": response_chart(figures, words),
    }


# -- a bilan over many events (the archive's) ---------------------------------------------------
# Their labels are event names, which people type: `text.parse_math` off, so a `$` in a name is
# a dollar sign and never a formula.
NAMES_STYLE = {**STYLE, "text.parse_math": False}
MESSAGES_COLOUR = "#4a6fa5"


def daily_chart(days: list[dict], words: Wording, flagged_label: str) -> str | None:
    """Messages per day (bars) and flagged messages per day (line, its own axis on the right):
    `days` as [{"day": "2026-11-03", "messages": n, "flagged": n}], oldest first."""
    if not days:
        return None
    with plt.rc_context(NAMES_STYLE):
        fig, ax = plt.subplots(figsize=(9, 3.2))
        when = [datetime.fromisoformat(d["day"]).replace(tzinfo=UTC) for d in days]
        ax.bar(when, [d["messages"] for d in days], width=0.8, color=MESSAGES_COLOUR, alpha=0.6,
               label=words("messages"))  # fmt: skip
        flags = ax.twinx()
        flags.plot(when, [d["flagged"] for d in days], color=FLAGGED_COLOUR, marker="o",
                   linewidth=1.6, label=flagged_label)  # fmt: skip
        flags.set_ylim(bottom=0)
        flags.grid(visible=False)
        flags.spines["right"].set_visible(True)
        for axis in (ax, flags):
            axis.yaxis.set_major_formatter(_numbers(words))
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=10))
        day = "%d/%m" if words.lang == "fr" else "%m-%d"
        ax.xaxis.set_major_formatter(mdates.DateFormatter(day))
        ax.set_ylabel(words("messages"))
        flags.set_ylabel(flagged_label, color=FLAGGED_COLOUR)
        handles = ax.get_legend_handles_labels()[0] + flags.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), fontsize=8,
                  frameon=False, ncols=2)  # fmt: skip
        return _svg(fig)


def events_chart(events: list[dict], words: Wording, flagged_label: str) -> str | None:
    """Each event's messages, with its flagged messages drawn over them, in the events' order."""
    if not events:
        return None
    with plt.rc_context(NAMES_STYLE):
        names = [_short(str(e["event"])) for e in events][::-1]
        rows = range(len(names))
        fig, ax = plt.subplots(figsize=(7, 0.38 * len(names) + 1.0))
        messages = [e["messages"] for e in events][::-1]
        flagged = [e["flagged"] for e in events][::-1]
        bars = ax.barh(rows, messages, color=MESSAGES_COLOUR, alpha=0.6, label=words("messages"))
        ax.barh(rows, flagged, color=FLAGGED_COLOUR, height=0.45, label=flagged_label)
        ax.bar_label(bars, labels=[words.number(n) for n in messages], padding=3, fontsize=8)
        ax.set_yticks(list(rows), names)
        ax.xaxis.set_major_formatter(_numbers(words))
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        return _svg(fig)


def _short(name: str, most: int = 48) -> str:
    flat = " ".join(name.split())
    return flat if len(flat) <= most else flat[: most - 1] + "…"
