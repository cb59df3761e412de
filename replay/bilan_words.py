"""The bilan's wording in French and English, and numbers and dates in each language's format."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from babel import Locale
from babel.dates import format_datetime, format_time
from babel.numbers import format_decimal, format_percent

LANGUAGES = {"fr": Locale.parse("fr_FR"), "en": Locale.parse("en_GB")}

WORDS: dict[str, tuple[str, str]] = {  # key: (French, English)
    "title": ("Bilan de modération", "Moderation report"),
    "generated": ("Rapport généré le", "Report generated on"),
    "times_in": ("Heures en", "Times in"),
    "event": ("L'événement", "The event"),
    "sources": ("Sources", "Sources"),
    "channel": ("Chaîne", "Channel"),
    "platform": ("Plateforme", "Platform"),
    "start": ("Début", "Start"),
    "end": ("Fin", "End"),
    "duration": ("Durée", "Duration"),
    "messages": ("Messages", "Messages"),
    "unique_authors": ("Auteurs uniques", "Unique authors"),
    "peak_minute": ("Pic par minute", "Peak per minute"),
    "peak_second": ("Pic par seconde", "Peak per second"),
    "at": ("à", "at"),
    "deleted": ("Messages supprimés", "Messages deleted"),
    "paid": ("Messages payants", "Paid messages"),
    "moderation": ("La modération", "Moderation"),
    "flagged": ("Messages signalés", "Flagged messages"),
    "by_category": ("Par catégorie", "By category"),
    "by_severity": ("Par gravité", "By severity"),
    "severity": ("Gravité", "Severity"),
    "category": ("Catégorie", "Category"),
    "count": ("Nombre", "Count"),
    "actions": ("Actions", "Actions"),
    "actions_by_kind": ("Actions par type", "Actions by type"),
    "actions_by_moderator": ("Actions par modérateur", "Actions by moderator"),
    "moderator": ("Modérateur", "Moderator"),
    "result": ("Résultat", "Result"),
    "response_times": ("Délais de réponse", "Response times"),
    "median": ("Médiane", "Median"),
    "p90": ("90ᵉ centile", "90th percentile"),
    "within_target": ("Traités dans l'objectif", "Handled within the target"),
    "target": ("objectif", "target"),
    "handled": ("Signalements traités", "Flagged items handled"),
    "removed_by_platform": (
        "Retirés par la plateforme ou un autre outil",
        "Removed by the platform or another tool",
    ),
    "unhandled": ("Restés sans traitement", "Left unhandled"),
    "no_actions": ("Aucune action n'a été enregistrée.", "No action was recorded."),
    "outside_vigile": (
        "Actions prises hors de Vigile (Twitch)",
        "Actions taken outside Vigile (Twitch)",
    ),
    "outside_note": (
        "par l'équipe de modération de la chaîne, vues par Twitch ; comptées dans les délais "
        "de réponse quand elles répondent à un message signalé",
        "by the channel's moderators, as Twitch told them; counted in the response times when "
        "they answer a flagged message",
    ),
    "lockdowns": ("Verrouillages anti-raid", "Raid lockdowns"),
    "lockdown_what": ("Mesures", "Measures"),
    "raid_after": ("Durée du raid après le début", "Raid went on after the start for"),
    "threats": ("Les menaces", "Threats"),
    "alert_timeline": ("Chronologie des alertes", "Alert timeline"),
    "raised": ("Levée", "Raised"),
    "escalated": ("Aggravée", "Escalated"),
    "cleared": ("Retombée", "Cleared"),
    "kind": ("Type", "Kind"),
    "subject": ("Objet", "Subject"),
    "evidence": ("Éléments", "Evidence"),
    "no_alerts": ("Aucune alerte.", "No alerts."),
    "core": ("Comptes les plus actifs parmi les signalés", "Most active flagged accounts"),
    "author": ("Auteur", "Author"),
    "first_seen": ("Première apparition", "First seen"),
    "sanctions": ("Sanctions", "Sanctions"),
    "none": ("aucune", "none"),
    "clusters": ("Messages relayés en masse (copier-coller)", "Relay clusters (copypasta)"),
    "authors": ("Auteurs", "Authors"),
    "samples": ("Exemples", "Samples"),
    "hashtags": ("Hashtags détournés", "Hijacked hashtags"),
    "hashtag": ("Hashtag", "Hashtag"),
    "rule_from": ("Règle à partir de", "Rule from"),
    "no_rule": ("pas de règle", "no rule"),
    "filters": ("Les filtres", "Filters"),
    "version": ("Version", "Version"),
    "when": ("Quand", "When"),
    "who": ("Qui", "Who"),
    "what": ("Quoi", "What"),
    "caught_after": ("Signalés ensuite", "Caught afterwards"),
    "initial_rules": ("règles au départ", "rules at the start"),
    "added": ("ajoutées", "added"),
    "removed": ("retirées", "removed"),
    "changed": ("modifiées", "changed"),
    "no_changes": (
        "Aucune modification des filtres pendant l'événement.",
        "No filter change during the event.",
    ),
    "evidence_section": ("Preuves", "Evidence"),
    "evidence_holds": ("L'export de preuves contient", "The evidence export holds"),
    "flagged_messages_of": ("messages signalés, sur", "flagged messages, out of"),
    "in_chain": ("messages chaînés", "chained messages"),
    "seal": ("Empreinte qui scelle la session (SHA-256)", "Hash sealing the session (SHA-256)"),
    "intact": ("Chaîne intacte", "Chain intact"),
    "rows_sealed": (
        "lignes scellées (messages, verdicts, actions, événements, versions des règles,"
        " suppressions, début et fin de session)",
        "sealed rows (messages, verdicts, actions, events, rule versions, deletions,"
        " session start and end)",
    ),
    "interrupted": ("Session interrompue, sans fin propre", "Session interrupted, no clean end"),
    "holds": ("elle contient", "it holds"),
    "rows": ("lignes scellées", "sealed rows"),
    "link": ("maillon", "link"),
    "legacy_chain": (
        "Fichier d'une version antérieure de Vigile : seuls 9 champs de chaque message sont"
        " scellés ; actions, verdicts, versions des règles, événements et suppressions ne sont"
        " pas prouvés.",
        "File from an earlier Vigile: only 9 fields of each message are sealed; actions,"
        " verdicts, rule versions, events and deletions are not proven.",
    ),
    "broken": ("CHAÎNE ROMPUE", "CHAIN BROKEN"),
    "verify_with": ("Vérifier avec", "Verify with"),
    "charts": ("Graphiques", "Charts"),
    "chart_rate": (
        "Messages par minute, par plateforme, avec les messages signalés et les alertes",
        "Messages per minute by platform, with flagged messages and alerts",
    ),
    "chart_categories": ("Messages signalés par catégorie", "Flagged messages by category"),
    "chart_response": ("Répartition des délais de réponse", "Response-time distribution"),
    "per_minute": ("messages / minute", "messages / minute"),
    "minutes": ("minutes", "minutes"),
    "items": ("signalements", "items"),
    "rehearsal": ("Répétition : le score de l'équipe", "Rehearsal: the team's score"),
    "scenario": ("Scénario", "Scenario"),
    "unlabelled_not_scored": (
        "messages sans étiquette (chat réel) ne sont pas comptés",
        "unlabelled messages (real chat) are not scored",
    ),
    "should_act": ("Messages à traiter selon le scénario", "Messages the scenario says to act on"),
    "caught": ("Traités par l'équipe", "Acted on by the team"),
    "missed": ("Manqués", "Missed"),
    "team_recall": ("Rappel de l'équipe", "Team recall"),
    "time_to_act": ("Délai d'action (médiane / 90ᵉ centile)", "Time to act (median / 90th pct)"),
    "false_actions": ("Actions à tort", "False actions"),
    "triage_alone": ("Le tri automatique seul", "Automatic triage alone"),
    "precision": ("Précision", "Precision"),
    "recall": ("Rappel", "Recall"),
    "raid_to_alert": ("Début du raid → première alerte", "Raid onset → first alert"),
    "alerts_before": ("Alertes avant le raid", "Alerts before the raid"),
    "never": ("jamais", "never"),
    "replay_of": ("rejeu de {}", "replay of {}"),
    "loadtest_of": ("test de charge de {}", "load test of {}"),
    "added_one": ("ajoutée", "added"),
    "removed_one": ("retirée", "removed"),
    "scored_on": (
        "Équipe et tri automatique notés sur les mêmes {} messages rejoués",
        "Team and automatic triage scored on the same {} replayed messages",
    ),
    "seconds": ("s", "s"),
}

CATEGORIES: dict[str, tuple[str, str]] = {
    "racism": ("racisme", "racism"),
    "sexism": ("sexisme", "sexism"),
    "lgbtphobia": ("LGBTphobie", "LGBT-phobia"),
    "threat": ("menace", "threat"),
    "harassment": ("harcèlement", "harassment"),
    "spam": ("spam", "spam"),
    "link": ("lien", "link"),
    "brand": ("marque", "brand"),
    "crisis": ("crise", "crisis"),
    "question": ("question", "question"),
    "other": ("autre", "other"),
}

# Who changed rules or acted, when it is Vigile's own name for a part of itself, not a person.
AGENTS: dict[str, tuple[str, str]] = {
    "me": ("le poste", "this desk"),
    "desk": ("le poste", "the desk"),
    "loadtest": ("test de charge", "load test"),
    "record": ("enregistrement", "recording"),
    "cli": ("ligne de commande", "command line"),
    "file": ("fichier", "file"),
    "editor": ("éditeur de règles", "rule editor"),
    "suggestion": ("suggestion", "suggestion"),
    "team": ("équipe", "team"),
    "start": ("départ", "start"),
    "scenario": ("scénario", "scenario"),
}

PLATFORMS = {"twitch": "Twitch", "youtube": "YouTube", "vigile": "Vigile"}

KINDS: dict[str, tuple[str, str]] = {  # alert and action kinds
    "raid": ("raid", "raid"),
    "flood": ("déferlement", "flood"),
    "copypasta": ("copier-coller", "copypasta"),
    "rising-hashtag": ("hashtag en hausse", "rising hashtag"),
    "rising-term": ("terme en hausse", "rising term"),
    "author-burst": ("rafale d'un auteur", "author burst"),
    "ban": ("bannissement", "ban"),
    "timeout": ("exclusion temporaire", "timeout"),
    "delete": ("suppression", "delete"),
    "warn": ("avertissement", "warn"),
    "unban": ("levée de bannissement", "unban"),
    "dismiss": ("classé sans suite", "dismiss"),
    "escalate": ("transmis au superviseur", "escalate"),
    "approve": ("approuvé", "approve"),
    "clear": ("chat vidé", "clear"),
    "chat_mode": ("mode du chat", "chat mode"),
    "automod_allow": ("autorisé (AutoMod)", "allowed (AutoMod)"),
    "automod_deny": ("refusé (AutoMod)", "denied (AutoMod)"),
    "shield_mode": ("mode bouclier", "Shield Mode"),
    "unban_approve": ("débannissement accordé", "unban granted"),
    "unban_deny": ("débannissement refusé", "unban refused"),
    "ok": ("fait", "done"),
    "failed": ("refusé", "failed"),
    "simulated": ("simulé", "simulated"),
}


class Wording:
    """Words, numbers and dates for one language and one time zone."""

    def __init__(self, lang: str, tz: tzinfo = UTC) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r}: choose fr or en")
        self.lang, self.locale, self.tz = lang, LANGUAGES[lang], tz
        self._index = 0 if lang == "fr" else 1

    def __call__(self, key: str) -> str:
        return WORDS[key][self._index]

    def category(self, name: str) -> str:
        return CATEGORIES[name][self._index] if name in CATEGORIES else name

    def kind(self, name: str) -> str:
        return KINDS[name][self._index] if name in KINDS else name

    def agent(self, name: str) -> str:
        """A moderator or rule author: a person's name as is, Vigile's own parts in words
        ("me (suggestion)" is "le poste (suggestion)")."""
        base, _, note = str(name).partition(" (")
        if base not in AGENTS:
            return str(name)
        worded = AGENTS[base][self._index]
        note = note.rstrip(")")
        return f"{worded} ({self.agent(note)})" if note else worded

    def author(self, author: str, origin: str) -> str:
        """Who made a rules version, and how (the origin once, not twice)."""
        worded, how = self.agent(author), self.agent(origin)
        return worded if worded.endswith(f"({how})") else f"{worded} ({how})"

    @staticmethod
    def platform(name: str) -> str:
        """Platforms as they spell themselves: Twitch, YouTube."""
        return PLATFORMS.get(str(name).lower(), str(name))

    @property
    def colon(self) -> str:
        """A colon as the language sets it: French puts a (no-break) space before it."""
        return "\u00a0:" if self.lang == "fr" else ":"

    def session_title(self, name: str, kind: str | None, replay_of: str | None) -> str:
        """A session's name in the report's language, where Vigile named it itself."""
        if replay_of and kind in ("replay", "rehearsal", "demo"):
            return self("replay_of").format(replay_of)
        if replay_of and kind == "loadtest":
            return self("loadtest_of").format(replay_of)
        return name

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def percent(self, share: float | None) -> str:
        if share is None:
            return "—"  # the language's own pattern (18,3 % or 18.3%), tenths kept
        return format_percent(round(share, 3), locale=self.locale, decimal_quantization=False)

    def datetime(self, ts: float | None) -> str:
        if ts is None:
            return "—"
        return format_datetime(_utc(ts), "medium", tzinfo=self.tz, locale=self.locale)

    def time(self, ts: float | None) -> str:
        return (
            "—"
            if ts is None
            else format_time(_utc(ts), "medium", tzinfo=self.tz, locale=self.locale)
        )

    def duration(self, seconds: float | None) -> str:
        """`1 h 02 min 05 s`: exact, where babel's words would round to the nearest unit."""
        if seconds is None:
            return "—"
        whole = round(seconds)
        hours, rest = divmod(whole, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes:02d} min {secs:02d} s"
        if minutes:
            return f"{minutes} min {secs:02d} s"
        if seconds < 10:
            return f"{self.number(seconds, 1)} s"
        return f"{whole} s"


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
