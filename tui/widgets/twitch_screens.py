"""Screens over the desk for Twitch's own tools: the lockdown's confirmation, the mod log of
every moderator's actions, and the unban requests. Chat text only ever as inert Rich Text."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from vigile.tui.chat_text import chat_clock, inert
from vigile.tui.twitch_desk import TwitchDesk

_BOX = """
    align: center middle;
    & > Vertical {
        width: 110;
        max-height: 90%;
        height: auto;
        border: thick $accent;
        background: $panel;
        padding: 0 1;
    }
    & DataTable { height: auto; max-height: 30; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """One question, answered by y (or Enter) / n (or Escape)."""

    DEFAULT_CSS = "ConfirmScreen {" + _BOX + "}"
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes", tooltip="Do it"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no", tooltip="Leave it as it is"),
    ]

    def __init__(self, title: str, question: str) -> None:
        super().__init__()
        self.title_text, self.question = title, question

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            yield Static(Text(self.question), id="question")
        yield Footer()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class ModLogScreen(ModalScreen[None]):
    """Every moderator's actions in the channel, newest first, as Twitch told them."""

    DEFAULT_CSS = "ModLogScreen {" + _BOX + "}"
    BINDINGS = [
        Binding("escape,q,g", "close", "Close", id="modlog.close", tooltip="Back to the desk")
    ]

    def __init__(self, twitch: TwitchDesk) -> None:
        super().__init__()
        self.twitch = twitch

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Mod log: every moderator's actions (Twitch)"
            problem = self.twitch.unavailable("modlog")
            if problem:
                yield Static(Text(f"The mod log {problem}."), id="modlog-off")
            table: DataTable[Text] = DataTable(id="modlog", cursor_type="row", zebra_stripes=True)
            table.add_columns("time", "channel", "moderator", "action", "target", "reason")
            for ts, channel, action in reversed(self.twitch.mod_log):
                table.add_row(
                    Text(chat_clock(ts)),
                    Text(inert(channel)),
                    Text(inert(action.moderator_login)),
                    Text(inert(action.action + (f" ({action.detail})" if action.detail else ""))),
                    Text(inert(action.target_login)),
                    Text(inert(action.reason)),
                )
            yield table
            if not self.twitch.mod_log:
                yield Static(Text("No moderator action yet this session."), id="modlog-empty")
        yield Footer()

    def action_close(self) -> None:
        self.dismiss(None)


class UnbanScreen(ModalScreen[None]):
    """Pending unban requests with what the session knows of each requester; a approves,
    d denies (through Helix, recorded)."""

    DEFAULT_CSS = "UnbanScreen {" + _BOX + "}"
    BINDINGS = [
        Binding(
            "a", "resolve(True)", "Approve", id="unban.approve", tooltip="Unban the user (Helix)"
        ),
        Binding("d", "resolve(False)", "Deny", id="unban.deny", tooltip="Keep the ban (Helix)"),
        Binding("escape,q,u", "close", "Close", id="unban.close", tooltip="Back to the desk"),
    ]

    def __init__(self, twitch: TwitchDesk, resolve: Callable[[str, bool], None]) -> None:
        super().__init__()
        self.twitch, self.resolve = twitch, resolve

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Unban requests (Twitch)"
            problem = self.twitch.unavailable("unban")
            if problem:
                yield Static(Text(f"Unban requests: {problem}."), id="unban-off")
            table: DataTable[Text] = DataTable(id="unban", cursor_type="row")
            table.add_columns("asked", "channel", "user", "request", "this session")
            yield table
            yield Static(Text(""), id="unban-empty")
        yield Footer()

    async def on_mount(self) -> None:
        await self.fill()

    async def fill(self) -> None:
        table = self.query_one("#unban", DataTable)
        table.clear()
        for request_id, (channel, request, ts) in self.twitch.unban_requests.items():
            history = await self.twitch.requester_history(request_id)
            table.add_row(
                Text(chat_clock(ts)),
                Text(inert(channel)),
                Text(inert(request.user_name)),
                Text(inert(request.text)),
                Text(inert(history)),
                key=request_id,
            )
        empty = "" if self.twitch.unban_requests else "No unban request is waiting."
        self.query_one("#unban-empty", Static).update(Text(empty))

    def action_resolve(self, approve: bool) -> None:
        table = self.query_one("#unban", DataTable)
        if table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key is not None:
            self.resolve(str(key), approve)
            table.remove_row(key)

    def action_close(self) -> None:
        self.dismiss(None)
