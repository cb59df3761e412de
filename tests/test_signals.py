"""Stream signals on small synthetic streams: what must alert, and what must not."""

import itertools
import random

import pytest

from vigile.connectors.model import ChatMessage, Mark, PlatformEvent
from vigile.filters.clusters import Clusters, skeleton
from vigile.filters.rules import load_starter_packs
from vigile.filters.signals import CLEAR_AFTER_S, Signals
from vigile.filters.triage import Triage

T0 = 1_767_225_600.0
_ids = itertools.count()


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(load_starter_packs())


class Stream:
    """Feeds messages at given stream times through triage and signals, keeping what came out."""

    def __init__(self, triage: Triage) -> None:
        self.triage, self.signals = triage, Signals()
        self.events: list[PlatformEvent] = []
        self.verdicts: dict[str, object] = {}
        self.rng = random.Random(7)

    def say(self, t: float, author: str, text: str, first: bool = False, platform="twitch"):
        m = ChatMessage(
            platform,
            "lumina",
            f"m{next(_ids)}",
            f"id-{author}",
            author,
            text,
            sent_at=T0 + t,
            first_message=first,
        )
        verdict, events = self.signals.observe(m, self.triage.judge(m))
        self.verdicts[author + ":" + m.id] = verdict
        self.events += events
        return verdict

    def calm(self, start: float, seconds: float, rate: float = 5, regulars: int = 300) -> None:
        """Ordinary chat from regulars."""
        openers = [
            "gg",
            "what a race",
            "nice overtake",
            "le pilote est chaud",
            "allez Lumina",
            "quelle course",
            "who's leading?",
            "this camera angle is great",
            "hi chat",
            "first time here",
            "the sound is low",
            "love this channel",
            "hello from lyon",
            "on y croit",
            "c'est serré",
            "that pit stop though",
            "qui gagne ?",
            "pog",
            "clip that",
            "le virage de fou",
            "bravo pour la qualif",
            "she's so fast",
            "go go go",
            "trop stylé le casque",
            "who's racing next?",
            "what a save",
        ]
        endings = [
            "",
            " !!",
            " lol",
            " mdr",
            " omg",
            " trop fort",
            " insane",
            " 🔥",
            " wow",
            " de ouf",
            " honestly",
            " frfr",
        ]
        for n in range(int(seconds * rate)):
            author = f"regular{self.rng.randrange(regulars)}"
            text = self.rng.choice(openers) + self.rng.choice(endings)
            self.say(start + n / rate, author, text)

    def alerts(self, kind: str, state: str = "raised") -> list[PlatformEvent]:
        return [e for e in self.events if e.kind == f"alert:{kind}" and e.data["state"] == state]

    def raised(self) -> list[str]:
        return [e.kind for e in self.events if e.data.get("state") == "raised"]


# -- what must not alert ------------------------------------------------------------------------


def test_a_goal_celebrated_by_thousands_raises_nothing(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 120)
    shouts = ["GOOOAL", "GOOOOOOOAL!!!", "goal", "GOAAAAL ⚽⚽", "BUUUUT", "quel but !!"]
    for n in range(3_000):  # 3,000 fans in 20 seconds, many of them new
        stream.say(120 + n / 150, f"fan{n}", stream.rng.choice(shouts), first=n % 3 == 0)
    stream.calm(140, 60)
    assert stream.raised() == []


def test_a_popular_emote_spammed_and_a_giveaway_keyword_raise_nothing(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 90)
    for n in range(800):
        stream.say(
            90 + n / 40,
            f"viewer{n % 400}",
            "PogChamp PogChamp PogChamp PogChamp" if n % 2 else "!giveaway",
        )
    assert stream.raised() == []


def test_ordinary_chat_for_ten_minutes_raises_nothing(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 600, rate=8, regulars=1_500)
    assert stream.raised() == []


# -- what must --------------------------------------------------------------------------------


def test_a_copypasta_flood_is_one_cluster_with_an_alert_then_clears(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 60)
    base = "lumina cup final tonight everyone be there it is going to be huge"
    variants = [
        base,
        base.upper(),
        base + " !!!",
        base.replace("e", "3"),
        "lumina  cup final tonight everyone be there it is going to be  huge 🔥",
        base.replace("huge", "hugee"),
    ]
    verdicts = [
        stream.say(60 + n * 0.25, f"bot{n}", variants[n % len(variants)]) for n in range(40)
    ]
    (alert,) = stream.alerts("copypasta")
    raised_at = alert.data["messages"] - 1
    assert 12 <= alert.data["messages"] <= 40 and alert.data["authors"] == alert.data["messages"]
    clusters = {v.cluster for v in verdicts[raised_at:] if v.cluster is not None}
    assert len(clusters) == 1  # every variant is the same line
    assert all(v.flagged and Mark.COPYPASTA in v.marks for v in verdicts[raised_at:])
    assert not any(v.flagged for v in verdicts[:raised_at])
    assert stream.signals.tick(CLEAR_AFTER_S - 5) == []  # quiet, but not for long enough
    cleared = stream.signals.tick(CLEAR_AFTER_S + 1)
    assert cleared and cleared[0].data["state"] == "cleared"
    assert not stream.signals.alerts


def test_a_raid_of_fresh_look_alike_accounts_is_seen_within_seconds(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 120)
    lines = [
        "go back to the kitchen",
        "t'es qu'une salope",
        "women can't play racing games",
        "retourne à la cuisine",
        "stupid bitch",
    ]
    onset = 120.0
    tagged = []
    for n in range(600):  # 40 s of raid at 15 msg/s, mixed with ordinary chat
        t = onset + n / 15
        if n % 3:
            verdict = stream.say(t, f"kitchen_{4000 + n % 45}", stream.rng.choice(lines))
            tagged.append(Mark.RAID in verdict.marks)
        else:
            verdict = stream.say(t, f"regular{n % 200}", "nice overtake")
            assert Mark.RAID not in verdict.marks
    (raid,) = stream.alerts("raid")
    assert raid.ts - (T0 + onset) <= 10
    assert raid.data["source"] == "behaviour" and raid.data["flagged_authors"] >= 8
    assert "kitchen" in raid.data["lookalike_stems"]
    assert sum(tagged) / len(tagged) > 0.9  # raid members recognised as such


def test_a_raid_s_accounts_are_forgotten_once_it_clears(triage) -> None:
    """Raiders are remembered while their raid is up (every message of theirs is tagged), not
    for the rest of the session: a later message of one of them, politely, is not a raid."""
    stream = Stream(triage)
    stream.calm(0, 120)
    for n in range(300):
        stream.say(120 + n / 15, f"kitchen_{4000 + n % 45}", "go back to the kitchen")
    assert Mark.RAID in stream.say(141, "kitchen_4001", "nice overtake").marks  # still up
    stream.calm(142, 240)  # calm long enough for the raid (and its look-alike group) to clear
    assert [e.data["state"] for e in stream.events if e.kind == "alert:raid"][-1] == "cleared"
    assert Mark.RAID not in stream.say(383, "kitchen_4001", "nice overtake").marks


def test_twitch_raid_notice_alerts_at_once_and_escalates_when_raiders_attack(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 90)
    notice = PlatformEvent(
        "twitch", "lumina", "raid", T0 + 90, {"raider": "h8_squad", "viewers": 412}
    )
    stream.events += stream.signals.observe_event(notice)
    (raised,) = stream.alerts("raid")
    assert raised.data["severity"] == 2 and raised.data["raider"] == "h8_squad"
    for n in range(200):
        stream.say(90 + n / 10, f"squad{n % 30}", "go back to the kitchen stupid bitch", first=True)
    escalated = stream.alerts("raid", "escalated")[-1]
    assert escalated.data["severity"] >= 4 and escalated.data["notice"]["raider"] == "h8_squad"
    assert len(stream.alerts("raid")) == 1  # one raid, raised once


def test_a_hostile_flood_is_told_from_a_happy_crowd(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 120, rate=4)
    for n in range(400):  # 10 s, five times the usual pace, half of it abuse, regulars included
        text = "ferme ta gueule" if n % 2 else "what a race"
        stream.say(120 + n / 40, f"regular{n % 300}", text)
    (flood,) = stream.alerts("flood")
    assert flood.data["flagged_share"] >= 0.25 and flood.data["messages_10s"] >= 50


def test_one_author_posting_in_a_burst(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 30)
    for n in range(16):  # one every 1.5 s: faster than anyone chatting
        stream.say(30 + n * 1.5, "spammer", f"buy my stuff {n}")
    (burst,) = stream.alerts("author-burst")
    assert burst.data["author"] == "spammer" and burst.data["messages"] >= 15


def test_a_hijacked_hashtag_rises_with_a_ready_made_rule(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 300)
    for n in range(40):
        stream.say(300 + n, f"angry{n % 20}", f"#BoycottLumina {['sale pute', 'loser'][n % 2]}")
        stream.say(300.5 + n, f"fan{n % 20}", "#gogoLumina gg")  # rising, but friendly
    (rising,) = stream.alerts("rising-hashtag")
    assert rising.data["hashtag"] == "#boycottlumina"
    rule = rising.data["suggested_rule"]
    assert rule["hashtags"] == ["#boycottlumina"] and rule["action"] == "review"


# -- clusters ---------------------------------------------------------------------------------


def test_skeletons_see_through_the_usual_mutations() -> None:
    base = skeleton("women can't play go back to the kitchen")
    for variant in [
        "WOMEN CAN'T PLAY go back to the kitchen",
        "w o m e n can't play go back to the kitchen",
        "women cant play go baaaack to the kitchen!!! 😂",
        "w\u200bomen can't play go back to the k1tchen",
    ]:
        assert skeleton(variant) == base


def test_near_duplicates_cluster_and_short_lines_only_exactly() -> None:
    clusters = Clusters()
    first = clusters.add("k1", "a", "les femmes savent pas jouer retourne cuisine", False, 0)
    near = clusters.add("k2", "b", "les femmes savent pas conduire retourne cuisine", False, 1)
    assert near is first and first.count == 2 and first.authors == {"a", "b"}
    assert clusters.add("k3", "c", "gg", False, 2) is not clusters.add("k4", "d", "gj", False, 3)
    clusters.add("k5", "e", "something else entirely, nothing alike", False, 500)
    assert len(clusters) == 1  # the old ones were forgotten after two idle minutes


def test_a_new_insult_rising_with_abuse_is_offered_as_a_rule(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 300)
    for n in range(30):  # a mutation no rule knows yet, riding along known insults
        stream.say(300 + n * 2, f"angry{n % 12}", f"sale pute zblorfix{'!' * (n % 3)}")
    (rising,) = [e for e in stream.alerts("rising-term") if e.data["term"] == "zblorfix"]
    assert rising.data["suggested_rule"]["terms"] == ["zblorfix"]
    assert not [e for e in stream.alerts("rising-term") if e.data["term"] in ("sale", "pute")]


def test_replayed_events_keep_the_stream_clock(triage) -> None:
    stream = Stream(triage)
    stream.calm(0, 90)
    replayed = PlatformEvent(
        "twitch",
        "lumina",
        "raid",
        T0 + 10**7,  # stamped when replayed
        {"raider": "x", "viewers": 10, "original_ts": T0 + 90},
    )
    (alert,) = stream.signals.observe_event(replayed)
    assert alert.ts == T0 + 90
    stream.calm(90, 30)  # and the chat after it is not all "in the same second"
    assert stream.alerts("author-burst") == []


def test_author_memory_keeps_recent_details_and_only_seen_before_for_the_rest() -> None:
    """A whole event's audience must not stay in memory in full: after FRESH_FOR_S an author
    is only known as "seen before", and burst windows last AUTHOR_WINDOW_S."""
    from vigile.filters.signals import AUTHOR_WINDOW_S, FRESH_FOR_S, _Authors

    authors = _Authors()
    for n in range(1_000):  # a thousand viewers say hello in the first minute
        assert authors.see(f"twitch:{n}", T0 + n * 0.06) == (T0 + n * 0.06, 1)
    assert authors.see("twitch:7", T0 + 10) == (T0 + 0.42, 2)  # same burst window
    later = T0 + FRESH_FOR_S + 61
    authors.forget(later)
    assert len(authors._first_seen) == 0 and len(authors._windows) == 0
    assert len(authors) == 1_000  # each still known as seen before
    first, burst = authors.see("twitch:7", later)  # a regular coming back: not new, not fresh
    assert first == float("-inf") and burst == 1
    assert authors.see("twitch:new", later) == (later, 1)
    assert authors.see("twitch:new", later + AUTHOR_WINDOW_S + 1)[1] == 1  # a new window


def test_seen_before_stays_the_same_size_and_forgets_the_oldest_first(monkeypatch) -> None:
    """Past two filters' worth of authors, the oldest are let go, so memory never grows."""
    from vigile.filters import signals

    monkeypatch.setattr(signals, "SEEN_BEFORE_EACH", 1_000)
    authors = signals._Authors()
    start = T0
    for n in range(2_500):  # each seen once, then old enough to be only "seen before"
        authors.see(f"twitch:{n}", start + n * 0.001)
    authors.forget(start + signals.FRESH_FOR_S + 10)
    assert len(authors._first_seen) == 0
    sizes = {authors._seen_before.size_in_bits, authors._seen_earlier.size_in_bits}
    assert len(sizes) == 1  # both filters of one fixed size
    oldest = sum(authors.seen_before(f"twitch:{n}") for n in range(1_000))
    newest = sum(authors.seen_before(f"twitch:{n}") for n in range(1_000, 2_500))
    assert newest == 1_500  # a filter never forgets what it holds
    assert oldest <= 20  # the first thousand are gone, but for a rare false "seen before"
    assert len(authors) == 1_000 + 500  # the newest full filter and the current one


def test_a_long_raid_lets_go_of_its_accounts_gone_quiet(triage) -> None:
    """A raid kept up for many minutes by new accounts must not remember every account that
    ever took part: one silent for RAIDER_IDLE_S is no longer a raider, while the alert stays."""
    from vigile.filters.signals import RAID_WINDOW_S, RAIDER_IDLE_S

    stream = Stream(triage)
    stream.calm(0, 120)
    for n in range(60):  # the first wave, then silent
        stream.say(120 + n / 4, f"early_{n % 12}", "go back to the kitchen", first=True)
    assert Mark.RAID in stream.say(136, "early_3", "go back to the kitchen").marks
    t, wave = 136.0, 0
    while t < 136 + 3 * RAIDER_IDLE_S:  # fresh waves of ten accounts keep it up
        wave += 1
        for n in range(40):
            stream.say(t + n / 4, f"w{wave}x{n % 10}", "go back to the kitchen", first=True)
        t += 10
    assert not stream.alerts("raid", "cleared")  # still the same raid
    scope = next(iter(stream.signals._scopes.values()))
    assert "twitch:id-early_3" not in scope.raiders
    assert wave * 10 >= 900
    # only the waves of the last RAIDER_IDLE_S (each stays marked while in the raid window)
    assert len(scope.raiders) <= 10 * ((RAIDER_IDLE_S + RAID_WINDOW_S) / 10 + 2)
    assert Mark.RAID not in stream.say(t, "early_3", "nice overtake").marks
