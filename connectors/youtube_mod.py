"""Acting as a YouTube moderator through the Data API v3: delete a message, ban, time out, lift a
ban made from this desk. The API's quota is small (10,000 units a day by default), so every call
is counted against a ledger that survives restarts, and its cost is shown with the result."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from vigile.connectors.google_http import google_http
from vigile.connectors.model import ActionKind, ActionResult, ChatMessage, ModAction
from vigile.connectors.secrets import CredentialsError, config_folder, read_private, write_private
from vigile.connectors.youtube_auth import YouTubeCredentials, refreshed, save_credentials

API = "https://www.googleapis.com/youtube/v3/"
DAILY_QUOTA = 10_000
# Units per call, from YouTube's quota table.
COST = {
    "channels.list": 1,
    "videos.list": 1,
    "liveChatMessages.list": 5,
    "liveChatMessages.delete": 50,
    "liveChatBans.insert": 50,
    "liveChatBans.delete": 50,
}
_NOT_ON_YOUTUBE = {
    ActionKind.WARN: "YouTube's API has no warnings",
    ActionKind.CLEAR: "YouTube's API cannot clear a chat",
    ActionKind.CHAT_MODE: "YouTube's chat modes are set in YouTube Studio, not through its API",
}


class YouTubeApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


class QuotaLedger:
    """Units spent today. YouTube's day starts at midnight Pacific time."""

    def __init__(self, path: Path | None = None, daily: int = DAILY_QUOTA) -> None:
        self.path, self.daily = path, daily
        self.day, self.used = _pacific_day(), 0
        try:
            saved = read_private(path, "vigile login youtube") if path else None
        except CredentialsError:
            saved = None  # an unreadable ledger starts the day again; it is rewritten on use
        if saved and saved.get("day") == self.day:
            self.used = int(saved.get("used", 0))

    @property
    def left(self) -> int:
        if _pacific_day() != self.day:
            self.day, self.used = _pacific_day(), 0
        return max(0, self.daily - self.used)

    def spend(self, units: int) -> None:
        _ = self.left  # roll over to a new day first
        self.used += units
        if self.path is not None:
            write_private(self.path, {"day": self.day, "used": self.used})


def ledger_path() -> Path:
    return config_folder() / "youtube-quota.json"


def _pacific_day() -> str:
    try:
        now = datetime.now(ZoneInfo("America/Los_Angeles"))
    except ZoneInfoNotFoundError:  # no time-zone database: Pacific standard time
        now = datetime.now(UTC) - timedelta(hours=8)
    return now.date().isoformat()


class YouTubeModerator:
    platform = "youtube"

    def __init__(
        self,
        credentials: YouTubeCredentials,
        base_url: str | None = None,
        save_to: Path | None = None,
        ledger: QuotaLedger | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url, self.save_to = base_url, save_to
        self.ledger = ledger or QuotaLedger()
        self.login = ""
        self.channel_id = ""
        self._http: httpx.AsyncClient | None = None
        self._chats: dict[str, str] = {}  # video → live chat id
        self._bans: dict[tuple[str, str], str] = {}  # (video, author) → ban id, for lifting

    async def start(self) -> None:
        self._http = google_http(self.base_url, 20)
        try:
            mine = await self._call(
                "GET", "channels", "channels.list", params={"part": "snippet", "mine": "true"}
            )
        except YouTubeApiError as exc:
            await self.close()
            raise CredentialsError(f"YouTube refused the moderator token: {exc.message}") from exc
        if not mine.get("items"):
            await self.close()
            raise CredentialsError("that Google account has no YouTube channel to moderate with")
        me = mine["items"][0]
        self.login, self.channel_id = me["snippet"]["title"], me["id"]

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def unavailable(self, kind: ActionKind) -> str | None:
        if kind in _NOT_ON_YOUTUBE:
            return _NOT_ON_YOUTUBE[kind]
        if self.ledger.left < COST["liveChatBans.insert"]:
            return "the YouTube API quota for today is spent (it resets at midnight Pacific time)"
        return None

    async def change_chat(self, action: ModAction, settings: dict[str, bool | int]) -> ModAction:
        return _done(action, ActionResult.FAILED, f"Not sent: {_NOT_ON_YOUTUBE[action.kind]}.")

    async def perform(self, action: ModAction, message: ChatMessage | None = None) -> ModAction:
        problem = self.unavailable(action.kind)
        if problem:
            return _done(action, ActionResult.FAILED, f"Not sent: {problem}.")
        spent_before = self.ledger.used
        try:
            detail = await self._act(action, message)
            result = ActionResult.OK
        except YouTubeApiError as exc:
            detail, result = explain(exc), ActionResult.FAILED
        except CredentialsError as exc:
            detail, result = str(exc), ActionResult.FAILED
        except httpx.HTTPError as exc:
            detail, result = f"Could not reach YouTube: {exc}.", ActionResult.FAILED
        spent = self.ledger.used - spent_before
        budget = f" ({spent} quota units; {self.ledger.left:,} of {self.ledger.daily:,} left today)"
        return _done(action, result, detail + budget)

    async def _act(self, action: ModAction, message: ChatMessage | None) -> str:
        chat = await self._live_chat(action.channel)
        author = action.target_author_id or ""
        if action.kind in (ActionKind.BAN, ActionKind.TIMEOUT):
            snippet: dict[str, Any] = {
                "liveChatId": chat,
                "type": "permanent",
                "bannedUserDetails": {"channelId": author},
            }
            if action.kind is ActionKind.TIMEOUT:
                snippet |= {"type": "temporary", "banDurationSeconds": action.duration_s or 300}
            ban = await self._call(
                "POST",
                "liveChat/bans",
                "liveChatBans.insert",
                params={"part": "snippet"},
                json={"snippet": snippet},
            )
            self._bans[(action.channel, author)] = ban.get("id", "")
            if action.kind is ActionKind.TIMEOUT:
                return f"timed out for {snippet['banDurationSeconds']} s"
            return "banned from the chat"
        if action.kind is ActionKind.UNBAN:
            ban_id = self._bans.get((action.channel, author))
            if not ban_id:
                raise YouTubeApiError(
                    0,
                    "unknownBan",
                    "only bans made from this desk can be "
                    "lifted through the API; use YouTube Studio",
                )
            await self._call(
                "DELETE", "liveChat/bans", "liveChatBans.delete", params={"id": ban_id}
            )
            del self._bans[(action.channel, author)]
            return "ban lifted"
        if action.kind is ActionKind.DELETE:
            found = await self._api_message_id(chat, action, message)
            await self._call(
                "DELETE", "liveChat/messages", "liveChatMessages.delete", params={"id": found}
            )
            return "message deleted"
        raise YouTubeApiError(0, "unsupported", f"{action.kind} is not a YouTube action")

    async def _live_chat(self, video: str) -> str:
        if video not in self._chats:
            answer = await self._call(
                "GET", "videos", "videos.list", params={"part": "liveStreamingDetails", "id": video}
            )
            items = answer.get("items") or [{}]
            chat = items[0].get("liveStreamingDetails", {}).get("activeLiveChatId")
            if not chat:
                raise YouTubeApiError(404, "liveChatNotFound", "this video has no live chat now")
            self._chats[video] = chat
        return self._chats[video]

    async def _api_message_id(
        self, chat: str, action: ModAction, message: ChatMessage | None
    ) -> str:
        """The Data API names messages differently from the live-chat page Vigile reads: find
        it among the chat's recent messages by author, text and time."""
        listing = await self._call(
            "GET",
            "liveChat/messages",
            "liveChatMessages.list",
            params={"liveChatId": chat, "part": "snippet", "maxResults": 2000},
        )
        candidates = [
            item
            for item in listing.get("items", ())
            if item["snippet"].get("authorChannelId") == action.target_author_id
        ]
        if message is not None:
            text = message.text.strip()
            same_text = [c for c in candidates if c["snippet"].get("displayMessage") == text]
            candidates = same_text or candidates
            candidates.sort(key=lambda c: abs(_published(c) - message.sent_at))
        if not candidates:
            raise YouTubeApiError(
                404,
                "liveChatMessageNotFound",
                "YouTube's API no longer lists "
                "that message; ban the author or delete it in YouTube Studio",
            )
        return str(candidates[0]["id"])

    async def _call(
        self, method: str, path: str, what: str, *, params: dict, json: dict | None = None
    ) -> dict[str, Any]:
        """One Data API call, counted; an expired token is renewed once and the call retried."""
        assert self._http is not None, "start() first"
        for attempt in range(2):
            if self.ledger.left < COST[what]:
                raise YouTubeApiError(403, "quotaExceeded", "today's quota is spent")
            headers = {"Authorization": f"Bearer {self.credentials.token}"}
            answer = await self._http.request(
                method, API + path, params=params, json=json, headers=headers
            )
            self.ledger.spend(COST[what])  # YouTube counts refused calls too
            if answer.status_code == 401 and attempt == 0 and self.credentials.refresh:
                self.credentials = await refreshed(self.credentials, self._http)
                if self.save_to is not None:
                    save_credentials(self.credentials, self.save_to)
                continue
            if answer.status_code >= 400:
                raise _api_error(answer)
            return answer.json() if answer.content else {}
        raise AssertionError("unreachable")


def explain(exc: YouTubeApiError) -> str:
    """YouTube's refusal, for a moderator."""
    match exc.status, exc.reason:
        case 403, "quotaExceeded" | "dailyLimitExceeded":
            return "YouTube's API quota for today is spent; it resets at midnight Pacific time."
        case 403, _:
            return f"Not allowed: {exc.message} (is this account a moderator of the chat?)"
        case 401, _:
            return "YouTube did not accept the token; run `vigile login youtube` again."
        case 404, "liveChatMessageNotFound":
            return f"Not found: {exc.message}"
        case 404, _:
            return f"Not found: {exc.message or 'the live chat is over'}"
        case 0, _:
            return f"Not sent: {exc.message}."
        case status, _ if status >= 500:
            return f"YouTube is having trouble (HTTP {status}); try again."
    return f"YouTube refused: {exc.message}"


def _api_error(answer: httpx.Response) -> YouTubeApiError:
    try:
        error = answer.json().get("error", {})
    except ValueError:
        error = {}
    reasons = error.get("errors") or [{}]
    return YouTubeApiError(
        answer.status_code,
        str(reasons[0].get("reason", "")),
        str(error.get("message", "")).strip().rstrip("."),
    )


def _published(item: dict[str, Any]) -> float:
    stamp = item["snippet"].get("publishedAt", "")
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time()


def _done(action: ModAction, result: ActionResult, detail: str) -> ModAction:
    return dataclasses.replace(action, result=result, detail=detail)
