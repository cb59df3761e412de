"""The theme reaches the Line-API panes: switching it redraws their rows in the new colours."""

from rich.color import Color as RichColor
from rich.segment import Segment
from textual.color import Color

from tests.helpers import SIZE, FedSource, desk, wait_for
from vigile.connectors.model import utc_now
from vigile.tui.app import VigileApp
from vigile.tui.widgets.desk_header import DeskHeader
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane, format_age


def theme_colour(app: VigileApp, variable: str) -> RichColor:
    return Color.parse(app.get_css_variables()[variable]).rich_color


def segment(strip, text: str) -> Segment:
    return next(s for s in strip if s.text.strip() == text)


def drawn(app: VigileApp, age: str) -> dict[str, Segment]:
    """The first priority row's age (drawn each time), platform and match (drawn once and
    kept), the feed's flag mark and match (kept too), and the header's rate of flags."""
    pane, feed = app.query_one(PriorityPane), app.query_one(LiveFeed)
    row, line = pane.render_line(1), feed.render_line(feed.line_count - 1 - int(feed.scroll_y))
    header = app.query_one(DeskHeader).render()
    rate = header.plain.index("flagged/s")
    return {
        "header": Segment("flagged/s", header.get_style_at_offset(app.console, rate)),
        "age": segment(row, age),
        "platform": segment(row, "tw"),
        "pane match": segment(row, "kill yourself"),
        "flag": segment(line, "●"),
        "feed match": segment(line, "kill yourself"),
    }


async def test_switching_the_theme_redraws_the_panes_in_its_colours(tmp_path) -> None:
    source = FedSource()
    app = desk(tmp_path, source)
    now = [utc_now()]
    app.clock = lambda: now[0]
    async with app.run_test(size=SIZE) as pilot:
        pane, feed = app.query_one(PriorityPane), app.query_one(LiveFeed)
        source.say("kill yourself")
        await wait_for(pilot, lambda: len(pane.items) == 1 and feed.line_count == 1)
        header = app.query_one(DeskHeader)
        await wait_for(pilot, lambda: "flagged/s" in header.render().plain)
        now[0] += 400  # past the first response target (300 s): the age is a warning
        age = format_age(400)
        await pilot.pause()
        assert app.theme == "textual-dark"
        before = drawn(app, age)
        assert before["age"].style.color == theme_colour(app, "text-warning")
        assert before["flag"].style.color == theme_colour(app, "text-warning")
        assert before["header"].style.color == theme_colour(app, "text-warning")
        assert before["platform"].style.color == theme_colour(app, "text-primary")
        for match in ("pane match", "feed match"):
            assert before[match].style.reverse and before[match].style.bold
        assert before["pane match"].style.bgcolor == pane.rich_style.bgcolor
        assert before["feed match"].style.bgcolor == feed.rich_style.bgcolor
        dark = {"pane": pane.rich_style.bgcolor, "feed": feed.rich_style.bgcolor}

        app.theme = "solarized-light"
        await pilot.pause()
        await pilot.pause()
        after = drawn(app, age)
        warning = theme_colour(app, "text-warning")
        assert after["age"].style.color == warning != before["age"].style.color
        assert after["flag"].style.color == warning != before["flag"].style.color
        assert after["header"].style.color == warning != before["header"].style.color
        twitch = theme_colour(app, "text-primary")
        assert after["platform"].style.color == twitch != before["platform"].style.color
        # A match is drawn reversed over the pane's own colours: the new theme's, not the old.
        assert after["pane match"].style.bgcolor == pane.rich_style.bgcolor != dark["pane"]
        assert after["feed match"].style.bgcolor == feed.rich_style.bgcolor != dark["feed"]
        await pilot.press("q")
