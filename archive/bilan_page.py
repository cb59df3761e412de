"""The period bilan's HTML page: the single bilan's style, escaping and charts over many events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigile.replay.bilan import page_environment
from vigile.replay.bilan_charts import category_chart, daily_chart, events_chart, response_chart
from vigile.replay.bilan_words import Wording

# What only a bilan over many events says; the rest is the single bilan's wording.
PERIOD_WORDS = {
    "title": ("Bilan de la période", "Report for the period"),
    "period": ("Période", "Period"),
    "events": ("Événements", "Events"),
    "event": ("Événement", "Event"),
    "end": ("Fin", "End"),
    "authors": ("Auteurs", "Authors"),
    "chain": ("Chaîne", "Chain"),
    "by_day": ("Par jour", "By day"),
    "day": ("Jour", "Day"),
    "chart_events": (
        "Messages par événement, dont signalés",
        "Messages per event, flagged among them",
    ),
    "chart_days": ("Messages et signalements par jour (UTC)", "Messages and flags per day (UTC)"),
    "actions_by_kind": ("Actions par type", "Actions by kind"),
    "repeat": ("Récidivistes de la période", "Repeat offenders in the period"),
    "repeat_note": (
        "Comptes sanctionnés dans deux événements ou plus.",
        "Accounts acted on in two events or more.",
    ),
    "account": ("Compte", "Account"),
    "bans": ("Bannissements", "Bans"),
    "timeouts": ("Exclusions temporaires", "Timeouts"),
    "last": ("Dernière", "Last"),
    "no_repeat": ("Aucun.", "None."),
    "session": ("Session archivée", "Archived session"),
    "rows_checked": ("lignes scellées vérifiées", "sealed rows checked"),
    "verify_each": (
        "Chaque session archivée se vérifie avec",
        "Each archived session is verified with",
    ),
}
_TEMPLATES = Path(__file__).parent / "templates"


def period_charts(figures: dict[str, Any], seconds: list[float], words: Wording) -> dict:
    """The page's charts, drawn by the single bilan's chart code."""
    flagged = words("flagged")
    moderation = {
        "flagged_by_category": figures["flagged_by_category"],
        "response_times": {**figures["response_times"], "seconds": seconds},
    }
    return {
        "events": events_chart(figures["events"], words, flagged),
        "days": daily_chart(figures["by_day"], words, flagged),
        "categories": category_chart({"moderation": moderation}, words),
        "response": response_chart({"moderation": moderation}, words),
    }


def period_page(
    figures: dict[str, Any], seconds: list[float], words: Wording, tz_name: str, version: str
) -> str:
    """The whole page. Names and chat text reach it only escaped (and made inert)."""
    index = 0 if words.lang == "fr" else 1
    template = page_environment(words, _TEMPLATES).get_template("bilan_period.html.j2")
    return template.render(
        f=figures,
        w=words,
        p={key: pair[index] for key, pair in PERIOD_WORDS.items()},
        charts=period_charts(figures, seconds, words),
        tz_name=tz_name,
        version=version,
    )
