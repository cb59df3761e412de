"""Turn a scenario into a labelled session: deterministic for a given seed."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from vigile.connectors.model import ChatMessage, PlatformEvent, Role
from vigile.replay.store import Label, SessionStore
from vigile.scenarios.format import Pool, Raid, Scenario

_SYLLABLES = (
    "ka",
    "lu",
    "mi",
    "no",
    "ra",
    "ze",
    "to",
    "vi",
    "sa",
    "po",
    "li",
    "de",
    "fa",
    "jo",
    "ne",
    "xi",
    "ba",
    "ro",
    "mu",
    "te",
    "chi",
    "lo",
    "ma",
    "ni",
)
_DECOR = (" !!!", " 🤡", " lol", " mdr", " 😂😂", "!!", " ???", " 👎", " .")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}


@dataclass(slots=True)
class Author:
    id: str
    name: str
    roles: frozenset[Role] = frozenset()
    spoken: bool = False
    regular: bool = True


@dataclass(slots=True)
class _Population:
    rng: random.Random
    regulars: list[Author]
    raiders: dict[str, list[Author]] = field(default_factory=dict)
    created: int = 0

    def new_author(self, stem: str | None = None, regular: bool = False) -> Author:
        self.created += 1
        if stem:
            name = f"{stem}{self.rng.randint(10, 9999)}"
        else:
            name = "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.randint(2, 3)))
            if self.rng.random() < 0.5:
                name += str(self.rng.randint(1, 99))
        return Author(f"u{self.created:06d}", name, regular=regular)


def _make_population(rng: random.Random, size: int) -> _Population:
    population = _Population(rng, [])
    for _ in range(max(1, size)):
        author = population.new_author(regular=True)
        roll = rng.random()
        if roll < 0.01:
            author.roles = frozenset({Role.MODERATOR})
        elif roll < 0.03:
            author.roles = frozenset({Role.VIP})
        elif roll < 0.25:
            author.roles = frozenset({Role.SUBSCRIBER})
        population.regulars.append(author)
    return population


def mutate(rng: random.Random, text: str) -> str:
    """A near-duplicate of a copypasta line, as raiders write them to dodge exact filters."""
    words = text.split(" ")
    choice = rng.randrange(6)
    index = rng.randrange(len(words))
    word = words[index]
    if choice == 0:
        text = text.upper() if rng.random() < 0.5 else text.lower()
    elif choice == 1 and word:  # repeated letter
        at = rng.randrange(len(word))
        words[index] = word[: at + 1] + word[at] * rng.randint(2, 4) + word[at + 1 :]
        text = " ".join(words)
    elif choice == 2:  # leetspeak
        words[index] = "".join(_LEET.get(c, c) if rng.random() < 0.6 else c for c in word)
        text = " ".join(words)
    elif choice == 3 and len(word) > 2:  # spaced letters
        words[index] = " ".join(word)
        text = " ".join(words)
    elif choice == 4 and len(word) > 2:  # a zero-width space inside a word
        at = rng.randrange(1, len(word))
        words[index] = word[:at] + "\u200b" + word[at:]
        text = " ".join(words)
    return text + rng.choice(_DECOR)


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _line(rng: random.Random, pool: Pool, lang: str) -> str:
    return rng.choice(pool.lines.get(lang) or next(iter(pool.lines.values())))


def _label(pool: Pool, phase: str, raid_member: bool) -> Label:
    return Label(pool.flag, pool.category, raid_member, pool.question, phase)


def generate(scenario: Scenario) -> Iterator[tuple[ChatMessage | PlatformEvent, Label | None]]:
    """Every message and event of the scenario, in time order, with ground-truth labels."""
    rng = random.Random(scenario.seed)
    population = _make_population(rng, scenario.regulars)
    channel_weights = {i: c.weight for i, c in enumerate(scenario.channels)}
    t = scenario.start
    for phase in scenario.phases:
        end = t + phase.duration
        first = scenario.channels[0]
        yield (
            PlatformEvent(
                first.platform,
                first.channel,
                "scenario:phase",
                t,
                {"name": phase.name, "raid": phase.raid is not None, "rate": phase.rate},
            ),
            None,
        )
        for spec in phase.events:
            data = {k: v for k, v in spec.items() if k != "kind"}
            yield PlatformEvent(first.platform, first.channel, str(spec["kind"]), t, data), None
        if phase.raid:
            population.raiders[phase.name] = [
                population.new_author(rng.choice(phase.raid.stems))
                for _ in range(phase.raid.accounts)
            ]
        while phase.rate > 0:
            t += rng.expovariate(phase.rate)
            if t >= end:
                break
            channel = scenario.channels[int(_pick(rng, channel_weights))]
            lang = _pick(rng, scenario.languages)
            raid: Raid | None = phase.raid
            if raid and rng.random() < raid.share:
                author = rng.choice(population.raiders[phase.name])
                pool = scenario.pools[_pick(rng, raid.pools)]
                text = _line(rng, pool, lang)
                if rng.random() < raid.mutate:
                    text = mutate(rng, text)
                label = _label(pool, phase.name, raid_member=True)
            else:
                if rng.random() < scenario.first_time_share:
                    author = population.new_author()
                    population.regulars.append(author)
                else:
                    author = rng.choice(population.regulars)
                pool = scenario.pools[_pick(rng, phase.mix)]
                text = _line(rng, pool, lang)
                label = _label(pool, phase.name, raid_member=False)
            first_message = not author.spoken and not author.regular
            author.spoken = True
            message = ChatMessage(
                platform=channel.platform,
                channel=channel.channel,
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                author_id=author.id,
                author_name=author.name,
                text=text,
                sent_at=round(t, 3),
                received_at=round(t + rng.uniform(0.05, 0.4), 3),
                roles=author.roles,
                first_message=first_message,
                raw={"scenario": scenario.name, "lang": lang},
            )
            yield message, label
        t = end


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    path: Path
    session_id: int
    messages: int
    flagged_labels: int
    raid_messages: int
    events: int


async def write_session(scenario: Scenario, db_path: str | Path) -> GenerationSummary:
    """Generate the scenario into a session database (kind "scenario") with its labels."""
    counts = {"messages": 0, "flag": 0, "raid": 0, "events": 0}
    store = await SessionStore.open(db_path, batch_rows=2_000)
    try:
        session_id = await store.start_session(
            scenario.name,
            "scenario",
            sorted({f"{c.platform}:{c.channel}" for c in scenario.channels}),
            {"title": scenario.title, "seed": scenario.seed, "scenario": scenario.name},
            started_at=scenario.start,
        )
        for item, label in generate(scenario):
            if isinstance(item, ChatMessage):
                store.add_message(item, label=label)
                counts["messages"] += 1
                counts["flag"] += bool(label and label.should_flag)
                counts["raid"] += bool(label and label.raid_member)
            else:
                store.add_event(item)
                counts["events"] += 1
            if store.pending >= 2_000:
                await store.flush()
    finally:
        await store.close()
    return GenerationSummary(
        Path(db_path),
        session_id,
        counts["messages"],
        counts["flag"],
        counts["raid"],
        counts["events"],
    )
