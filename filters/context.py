"""What a message's text does not say: who wrote it, to whom, in which language the chat is."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from vigile.connectors.model import ChatMessage, Role
from vigile.filters import lexicon
from vigile.filters.hits import Context
from vigile.filters.normalize import normalize, squeeze

# The bots channels add to their chat: they post links, commands and promotions all stream long.
KNOWN_BOTS = frozenset(
    {
        "nightbot",
        "streamelements",
        "streamlabs",
        "moobot",
        "fossabot",
        "wizebot",
        "botrixoficial",
        "sery_bot",
        "soundalerts",
        "kofistreambot",
        "pokemoncommunitygame",
        "streamstickers",
        "commanderroot",
        "deepbot",
        "phantombot",
        "coebot",
        "ankhbot",
        "vivbot",
        "lumiastream",
        "blerp",
    }
)
_ROLE_NAMES = {
    Role.BROADCASTER: "broadcaster",
    Role.MODERATOR: "moderator",
    Role.VIP: "vip",
    Role.SUBSCRIBER: "subscriber",
}
_WORD = str.maketrans({c: " " for c in "_-.@#"})


@lru_cache(maxsize=4096)
def name_keys(name: str) -> frozenset[str]:
    """The keys a person's name is written with in chat: "Inès" → ines, "clara_stream" →
    clarastream, clara, stream."""
    folded = normalize(name).text
    keys = {squeeze(folded.replace("_", "").replace(" ", ""))}
    keys |= {squeeze(w) for w in folded.translate(_WORD).split() if len(w) >= 3}
    return frozenset(k for k in keys if len(k) >= 3)


def is_bot(author_name: str, channel: str, says_so: bool) -> bool:
    """A well-known chat bot, the channel's own bot (lumina_bot on #lumina), or one the
    message says it is (`vigile check` lines, archives)."""
    name, channel = author_name.lower().strip("_"), channel.lower().lstrip("#")
    own = bool(channel) and name.startswith(channel[:5]) and name.endswith("bot")
    return name in KNOWN_BOTS or own or says_so


def context_for(message: ChatMessage, protected: frozenset[str], language: str | None) -> Context:
    says_bot = message.raw.get("bot") is True
    reply = message.reply_to is not None
    return _context(
        message.roles, reply, message.author_name, message.channel, says_bot, protected, language
    )


@lru_cache(maxsize=1 << 15)
def _context(
    roles: frozenset[Role],
    reply: bool,
    author_name: str,
    channel: str,
    says_bot: bool,
    protected: frozenset[str],
    language: str | None,
) -> Context:
    """Worked out once per author and chat (and language), not once per message."""
    names = frozenset(_ROLE_NAMES[r] for r in roles if r in _ROLE_NAMES)
    if is_bot(author_name, channel, says_bot):
        names |= {"bot"}
    return shared_context(names, reply, _with_channel(protected, channel), language)


@lru_cache(maxsize=4096)
def _with_channel(protected: frozenset[str], channel: str) -> frozenset[str]:
    """The protected names and the channel's own: one set per channel, not one per message."""
    return protected | name_keys(channel)


@lru_cache(maxsize=4096)
def shared_context(
    roles: frozenset[str], reply: bool, protected: frozenset[str], language: str | None
) -> Context:
    """Contexts repeat message after message: one object each, not one per message."""
    return Context(roles, reply, protected, language)


class ChatLanguage:
    """The language each chat has been written in so far, from the messages whose own words
    leave no doubt. Short lines ("bite", "mdr retard") are then read in their chat's language."""

    _WINDOW = 200  # the tally is halved past this: the chat's recent language counts most
    _SHARE = 0.7  # one language must hold this share of the tally to speak for the chat
    _LEAST = 10

    _REMEMBERED = 50_000
    _SETTLED = 50  # past this many messages, one in _SAMPLE is enough to follow the chat
    _SAMPLE = 8

    def __init__(self) -> None:
        self._cues: dict[str, str | None] = {}  # text → the language its own words say
        self._tally: dict[str, dict[str, float]] = defaultdict(lambda: {"fr": 0.0, "en": 0.0})
        self._seen: dict[str, int] = defaultdict(int)
        self._known: dict[str, str | None] = {}

    def observe(self, channel: str, text: str) -> str | None:
        """Count this message's language, when clear; the chat's language so far."""
        seen = self._seen[channel] = self._seen[channel] + 1
        if seen > self._SETTLED and seen % self._SAMPLE and channel in self._known:
            return self._known[channel]
        self._known[channel] = language = self._count(channel, text)
        return language

    def _count(self, channel: str, text: str) -> str | None:
        tally = self._tally[channel]
        language = self._cue_language(text)
        if language:
            tally[language] += 1
            if tally["fr"] + tally["en"] > self._WINDOW:
                tally["fr"] /= 2
                tally["en"] /= 2
        total = tally["fr"] + tally["en"]
        if total < self._LEAST:
            return None
        best = max(tally, key=tally.__getitem__)
        return best if tally[best] >= self._SHARE * total else None

    def _cue_language(self, text: str) -> str | None:
        """The language a text's own words leave no doubt about: worked out once per text
        (chat repeats its lines)."""
        if text not in self._cues:
            if len(self._cues) >= self._REMEMBERED:
                self._cues.clear()
            self._cues[text] = lexicon.confident_language(normalize(text).text.split())
        return self._cues[text]
