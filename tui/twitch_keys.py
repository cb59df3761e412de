"""The desk's keys for Twitch's own tools, drawn: AutoMod's held rows allowed or denied, the
raid lockdown asked for and toggled, the mod log and the unban requests opened. What each does
is the headless TwitchDesk's (`desk.twitch`); this mixin of VigileApp shows and asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work

from vigile.connectors.model import ActionResult, PlatformEvent
from vigile.tui.flagged import ItemState, PriorityItem
from vigile.tui.widgets.live_feed import LiveFeed
from vigile.tui.widgets.priority_pane import PriorityPane
from vigile.tui.widgets.twitch_screens import ConfirmScreen, ModLogScreen, UnbanScreen

if TYPE_CHECKING:
    from vigile.tui.app import VigileApp

    _Base = VigileApp
else:
    _Base = object


class TwitchToolKeys(_Base):
    def twitch_event(self, event: PlatformEvent, now: float) -> None:
        """An EventSub event (or a tool's state) on the screen: a hold added or settled, an
        author marked, a tool that cannot work told."""
        pane, feed = self.query_one(PriorityPane), self.query_one(LiveFeed)
        changes = self.desk.twitch.observe(event, now)
        if changes.held:
            pane.add_items(changes.held)
        if changes.released:
            pane.flush()
        for message_id in changes.released:  # settled, here or elsewhere
            if (held := pane.find(f"{event.platform}:{message_id}")) is not None:
                pane.set_state(held, ItemState.HANDLED)
        if changes.suspects:
            feed.marks_changed()
        for told in changes.told:
            self.tell(told, severity="warning")

    @work(group="actions")
    async def resolve_hold(self, item: PriorityItem, allow: bool) -> None:
        pane = self.query_one(PriorityPane)
        pane.set_state(item, ItemState.SENDING)
        done = await self.desk.twitch.resolve_hold(item, allow)
        verb = "allowed" if allow else "denied"
        if done.result is ActionResult.FAILED:
            pane.set_state(item, ItemState.NEW)
            self.tell(f"Held message not {verb}: {done.detail}", severity="error")
        elif done.result is ActionResult.SIMULATED:
            pane.set_state(item, ItemState.HANDLED)
            self.tell(f"Held message of {item.message.author_name} {verb} (simulated)")
        else:  # it leaves when Twitch confirms (automod.message.update), like one done elsewhere
            self.tell(f"Held message of {item.message.author_name} {verb}")

    def action_lockdown(self) -> None:
        twitch = self.desk.twitch
        channels = twitch.lockdown_channels()
        if not channels:
            self.tell("No Twitch channel to lock down yet.", severity="warning")
            return
        lifting = any(twitch.locked_down(c) for c in channels)
        where = ", ".join(f"#{c}" for c in channels)
        question = (
            f"Lift the lockdown of {where}: Shield Mode off and the chat modes of the preset off?"
            if lifting
            else f"Lock {where} down: {twitch.preset.describe()}?"
        )
        title = "Lift the raid lockdown" if lifting else "Raid lockdown"

        def answered(yes: bool | None) -> None:
            if yes:
                self.toggle_lockdown()

        self.push_screen(ConfirmScreen(title, question + "  (y: yes, n: no)"), answered)

    @work(group="actions", exclusive=True)
    async def toggle_lockdown(self) -> None:
        await self.desk.twitch.toggle_lockdown()
        self._refresh_header()

    def action_mod_log(self) -> None:
        self.push_screen(ModLogScreen(self.desk.twitch))

    def action_unban_requests(self) -> None:
        self.push_screen(UnbanScreen(self.desk.twitch, self.resolve_unban))

    @work(group="actions")
    async def resolve_unban(self, request_id: str, approve: bool) -> None:
        done = await self.desk.twitch.resolve_unban(request_id, approve)
        verb = "approved" if approve else "denied"
        if done.result is ActionResult.FAILED:
            self.tell(f"Unban request not {verb}: {done.detail}", severity="error")
        else:
            simulated = " (simulated)" if done.result is ActionResult.SIMULATED else ""
            self.tell(f"Unban request {verb}{simulated}")
