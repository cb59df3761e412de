"""The `vigile` command line. Headless commands never import Textual."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vigile.filters.rules import (
    RulePack,
    RulePackError,
    load_packs,
    load_starter_packs,
)
from vigile.replay.counts import count
from vigile.replay.files import require, require_writable, session_count
from vigile.replay.importers.formats import FORMATS as IMPORT_FORMATS
from vigile.team.command import add_hub_parser
from vigile.tui.accounts import add_login_parser, eventsub_sources, live_moderation
from vigile.tui.cli_errors import (
    INTERRUPTED,
    CommandError,
    Parser,
    positive_number,
    remove_session,
    removed_on_failure,
    run_command,
    say,
    speed,
    usage,
)

if TYPE_CHECKING:  # the heavy modules load in the commands that use them: start-up stays short
    from vigile.archive.follow import ArchiveLink
    from vigile.connectors.actions import Moderation
    from vigile.connectors.sources import Source
    from vigile.filters.triage import Triage
    from vigile.replay.pipeline import Pipeline, SessionKind, SessionPlan
    from vigile.replay.scoring import Score
    from vigile.tui.config import DeskConfig
    from vigile.tui.team import DeskTeam


def _packs(paths: Sequence[str] | None) -> list[RulePack]:
    return [pack for p in paths for pack in load_packs(p)] if paths else load_starter_packs()


def _fail(command: str, message: str, code: int = 2) -> int:
    """One line on stderr and the status to return (raising CommandError does the same)."""
    say(command, message)
    return code


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# -- scenario -----------------------------------------------------------------------------------


def cmd_scenario(args: argparse.Namespace) -> int:
    import asyncio

    from vigile.scenarios.format import ScenarioError, load_scenario
    from vigile.scenarios.generate import write_session

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        return _fail("scenario", str(exc))
    db = Path(args.db)
    if require_writable(db):  # only a session file is ever replaced, never anything else
        if not args.force:
            raise usage("already exists (use --force to replace it)", db)
        remove_session(db)
    real = ""
    with removed_on_failure(db):
        if args.background:
            from vigile.scenarios.background import BackgroundError, write_over_background

            background = Path(args.background)
            try:
                summary, copied = asyncio.run(
                    write_over_background(scenario, background, db, args.at)
                )
            except BackgroundError as exc:
                raise CommandError(str(exc), background) from None
            real = f", over {count(copied, 'real message')} of {background.name}"
            real += " (unlabelled, not scored)"
        else:
            summary = asyncio.run(write_session(scenario, db))
    print(
        f"{scenario.name}: {count(summary.messages, 'message')} "
        f"({summary.flagged_labels:,} labelled for moderation, "
        f"{summary.raid_messages:,} from raid accounts), {count(summary.events, 'event')}, "
        f"{scenario.duration:.0f} s of chat{real} → {db}"
    )
    return 0


# -- import -------------------------------------------------------------------------------------


def cmd_import(args: argparse.Namespace) -> int:
    from vigile.replay.importers.command import import_files, options, report_lines
    from vigile.replay.importers.items import ImportFailed

    try:
        opts = options(args.channel, args.tz, args.date, args.columns)
        report = import_files(args.files, args.db, args.format, opts, args.force)
    except ImportFailed as exc:
        return _fail("import", str(exc))
    print("\n".join(report_lines(report, args.db)))
    return 0


# -- label --------------------------------------------------------------------------------------


def cmd_label(args: argparse.Namespace) -> int:
    from vigile.replay.labels import LabelError, read_sheet, write_sheet

    session = Path(args.file)
    try:
        if args.to:
            rows = write_sheet(session, Path(args.to))
            print(f"{rows:,} messages → {args.to} (fill should_flag: 1 or 0, and a category)")
            return 0
        report = read_sheet(session, Path(args.source))
    except (LabelError, OSError) as exc:
        return _fail("label", str(exc))
    print(
        f"{report.labelled:,} messages labelled ({report.should_flag:,} should be flagged), "
        f"{report.left_blank:,} rows left blank, {report.problem_count:,} rows refused"
    )
    for problem in report.problems:
        print(f"  {problem}")
    return 0 if not report.problem_count else 1


# -- check --------------------------------------------------------------------------------------


def cmd_check(args: argparse.Namespace) -> int:
    from vigile.filters.check import check_stream, lasting_triage
    from vigile.filters.read_ahead import worth_a_second_process

    try:
        triage = lasting_triage(_packs(args.rules), author="cli", origin="file")
    except RulePackError as exc:
        return _fail("check", str(exc))
    for name in args.protect or ():
        triage.protect(name)
    watcher = None
    if args.rules:  # the packs stay live: an edit applies from the next lines on
        from vigile.filters.watch import PackWatcher

        def refused(error: RulePackError) -> None:
            say("check", f"edit refused, running rules kept: {error}")

        watcher = PackWatcher([Path(p) for p in args.rules], triage, refused)
    second = args.jobs == "2" or (args.jobs == "auto" and worth_a_second_process())
    check_stream(triage, sys.stdin.fileno(), sys.stdout.buffer, watcher, second)
    return 0


# -- loadtest -----------------------------------------------------------------------------------


def cmd_loadtest(args: argparse.Namespace) -> int:
    import asyncio

    from vigile.filters.triage import Triage
    from vigile.replay.loadtest import Progress, run_loadtest

    source = Path(args.file)
    require(source)
    triage = Triage(_packs(args.rules), author="loadtest", origin="file")
    out = _default_recording(f"{source.stem}-loadtest", args.db)
    if require_writable(out):
        raise usage("already holds a session; a load test records into a new file", out)

    def progress(p: Progress) -> None:
        line = (
            f"\r{p.messages:>9,} / {p.total:,} messages  {p.rate_per_s:>9,.0f}/s  "
            f"queue {p.queue:>5}  unsaved {p.unsaved:>6}"
        )
        print(line, end="", file=sys.stderr, flush=True)

    show = progress if not args.json and sys.stderr.isatty() else None
    try:
        report = asyncio.run(
            run_loadtest(source, None if args.max else args.speed, out, triage, show)
        )
    except KeyboardInterrupt:
        # the store's final flush ran as the run was cancelled: what was replayed is kept
        if show:
            print(file=sys.stderr)
        say("loadtest", "interrupted; the partial run is recorded, intact, here", out)
        return INTERRUPTED
    if show:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        r = report
        print(
            f"{count(r.messages, 'message')} in {r.duration_s:.1f} s at {r.speed}: "
            f"{r.throughput_per_s:,.0f} messages/s, {r.flagged:,} flagged\n"
            f"latency ingest → stored: p50 {r.latency_ms_p50} ms, p95 {r.latency_ms_p95} ms, "
            f"p99 {r.latency_ms_p99} ms, max {r.latency_ms_max} ms\n"
            f"dropped: {r.dropped}   memory: {r.rss_start_mib} → {r.rss_end_mib} MiB "
            f"(peak {r.peak_rss_mib} MiB)\nrecorded to {out}"
        )
        if r.score is not None:
            print(format_score(r.score))
    return 0 if report.dropped == 0 else 1


def format_score(score: Score) -> str:
    """The scoring section of the load-test report."""

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    scope = count(score.labelled, "message")
    if score.unlabelled:  # a scenario over real chat, or a hand-labelled part of one
        scope = (
            f"{count(score.labelled, 'labelled message')}; {score.unlabelled:,} unlabelled ones "
            "(real chat) are not scored"
        )
    lines = [
        f"against the labels ({scope}):",
        f"  flagging: precision {pct(score.flag_precision)}, recall {pct(score.flag_recall)}",
    ]
    if score.raid_onset is not None:
        seen = score.seconds_to_first_alert
        lines += [
            f"  raid members: precision {pct(score.raid_precision)}, "
            f"recall {pct(score.raid_recall)}",
            f"  raid onset → first alert: {'never' if seen is None else f'{seen:.1f} s'}; "
            f"alerts before the onset: {score.alerts_before_onset}",
        ]
    kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(score.alerts.items()))
    lines.append(f"  alerts raised: {kinds or 'none'}")
    return "\n".join(lines)


# -- evidence -----------------------------------------------------------------------------------


def cmd_export_evidence(args: argparse.Namespace) -> int:
    from vigile.replay.evidence import export_dossier
    from vigile.replay.signing import EvidenceKeyError, fingerprint

    source = Path(args.file)
    require(source)
    try:
        done = export_dossier(source, Path(args.out), everything=args.all, key_file=args.key)
    except (ValueError, EvidenceKeyError) as exc:
        raise CommandError(str(exc), source) from exc
    m, head = done.manifest, done.manifest["chain_head"] or {}
    if done.key_created:
        print(f"new evidence key made at {done.key_file}: keep it, it signs every dossier")
    print(
        f"{m['messages_exported']:,} of {count(m['messages_in_chain'], 'message')} exported "
        f"({m['selection']}; {count(m['rows_in_chain'], 'sealed row')}) → {args.out}\n"
        f"chain head: link {head.get('link')} sha256 {head.get('hash')}\n"
        f"signed by {done.public_key} (fingerprint {fingerprint(done.public_key)}):"
        " give this key to the client, `vigile verify DIR --signed-by KEY` checks it"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from vigile.replay.dossier_check import verify_dossier
    from vigile.replay.verify import report, verify_session

    if args.target.startswith(("postgresql://", "postgres://")):
        from vigile.tui.archive_cli import verify_in_archive

        return verify_in_archive(args.target, args.session)
    target = Path(args.target)
    try:
        if target.is_dir():
            result, what = verify_dossier(target, args.signed_by), "dossier"
        elif target.is_file():
            require(target)
            result, what = verify_session(target), "session file"
        else:
            raise usage("no session file or dossier here", target)
    except (ValueError, KeyError) as exc:
        raise CommandError(f"cannot be read: {exc}", target) from exc
    print("\n".join(report(result, what)))
    return 0 if result.intact else 1


# -- bilan -------------------------------------------------------------------------------------


def cmd_bilan(args: argparse.Namespace) -> int:
    from vigile.replay.bilan import BilanError, write_bilan

    if args.archive:
        from vigile.tui.archive_cli import archive_bilan

        return archive_bilan(args)
    if not args.file:
        raise usage("give a session file, or --archive URL --client NAME --from DAY --to DAY")
    session = Path(args.file)
    require(session)
    labels = Path(args.labels) if args.labels else None
    if labels is not None:
        require(labels)  # a scenario's labels are a session file too
    try:
        target_s = args.target_minutes * 60
        files = write_bilan(session, Path(args.out), args.lang, args.tz, target_s, labels)
    except BilanError as exc:
        raise usage(str(exc)) from exc
    f = files.figures
    print(
        f"{count(f['event']['messages'], 'message')}, {f['moderation']['flagged']:,} flagged, "
        f"{count(f['moderation']['actions'], 'action')}, "
        f"{count(len(f['threats']['alerts']), 'alert')} → "
        f"{files.html}, {files.markdown.name}, {files.json.name}"
    )
    if not f["evidence"]["intact"]:
        raise CommandError(f"its chain is broken: {f['evidence']['problem']}", session)
    return 0


# -- the desk: demo and replay ------------------------------------------------------------------


def _desk_config() -> DeskConfig:
    """The config file and environment (ConfigError, a ValueError, when wrong)."""
    from vigile.tui.config import load_config
    from vigile.tui.keys import desk_bindings

    bindings = {i: (screen, b.key) for i, (screen, b) in desk_bindings().items()}
    return load_config(bindings)


def _desk_rules(rules: list[str] | None, config: DeskConfig) -> list[str] | None:
    """The pack files a desk loads and watches: --rules, else the config's; None: starters."""
    return rules or list(config.packs) or None


def _run_desk(
    plan: SessionPlan,
    packs: list[RulePack],
    kind: str,
    moderation: Moderation | None = None,
    config: DeskConfig | None = None,
    args: argparse.Namespace | None = None,
) -> int:
    from vigile.archive.command import archive_link, watchlist_file
    from vigile.filters.triage import Triage
    from vigile.tui.app import VigileApp, settle_collector

    triage = Triage(packs, author="desk", origin="file")
    for name in config.protect if config else ():
        triage.protect(name)  # remarks naming the streamer are aimed at her
    try:
        team = _desk_team(args, triage) if args is not None else None
        archive = archive_link(args, plan.db_path, pushes=kind == "watch") if args else None
        watchlist = watchlist_file(args) if args is not None else None
    except ValueError as exc:
        return _fail(kind, str(exc))
    moderator = team.link.name if team is not None else "me"
    earlier = session_count(plan.db_path)
    app = VigileApp(
        plan,
        triage,
        moderator,
        moderation=moderation,
        config=config,
        team=team,
        archive=archive,
        watchlist=watchlist,
    )
    settle_collector()
    app.run()
    if app.pipeline_error is not None:
        raise CommandError(f"the recording stopped: {app.pipeline_error}", plan.db_path)
    print(_recorded(plan.db_path, earlier))
    if archive is not None and archive.pushing:
        print(archive.finish().describe())
    return 0


def _recorded(db: Path, earlier: int) -> str:
    """Where the session went, and whether it was added to a file that held others."""
    if not earlier:
        return f"Session recorded to {db}"
    return f"Session {earlier + 1} recorded to {db}, after the {count(earlier, 'session')} it held"


def _desk_team(args: argparse.Namespace, triage: Triage) -> DeskTeam | None:
    """The desk's link to a team hub (`--team`), with its token from VIGILE_TEAM_TOKEN."""
    if not args.team:
        if args.share:
            raise ValueError("--share splits a team's queue: it needs --team")
        return None
    from vigile.team.client import TeamLink, tls_context
    from vigile.team.protocol import FrameError, check_name
    from vigile.tui.team import DeskTeam, Share

    if not args.team.startswith(("ws://", "wss://")):
        raise ValueError(f"--team {args.team!r}: a hub address is ws://HOST:PORT or wss://…")
    token = os.environ.get("VIGILE_TEAM_TOKEN", "")  # never printed, never stored
    if not token:
        raise ValueError("--team needs the token `vigile hub` gave you, in VIGILE_TEAM_TOKEN")
    name = args.name or os.environ.get("USER") or "desk"
    try:
        name = check_name(name)
    except FrameError as exc:
        raise ValueError(f"--name {name!r}: {exc}") from None
    share = Share.parse(args.share or [])
    link = TeamLink(args.team, name, token, triage, share.wire(), tls_context(args.team_ca))
    return DeskTeam(link, share)


def _team_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--team",
        metavar="URL",
        help="join a team hub: ws://HOST:PORT (or wss://); the token comes from VIGILE_TEAM_TOKEN",
    )
    p.add_argument("--name", help="this desk's name on the team (default: your user name)")
    p.add_argument(
        "--share",
        action="append",
        metavar="SPEC",
        help="this desk's share of the queue: platform:twitch, category:sexism…; "
        "repeat for several (default: everything)",
    )
    p.add_argument("--team-ca", metavar="FILE", help="trust this certificate for a wss:// hub")


def _replay_plan(
    name: str,
    kind: SessionKind,
    source_file: Path,
    speed: float | None,
    db: Path,
    rule_files: list[str] | None,
    source_name: str | None = None,
) -> SessionPlan:
    from vigile.replay.pipeline import SessionPlan
    from vigile.replay.player import ReplaySource

    source = ReplaySource(source_file, speed=speed, name=source_name)
    info = {"replay_of": str(source_file), "speed": speed}
    return SessionPlan(name, kind, [source], db, info, [Path(f) for f in rule_files or []])


# -- live chats: watch and record ---------------------------------------------------------------


def live_sources(
    specs: list[str], twitch_url: str | None, youtube_base_url: str | None = None
) -> list[Source]:
    """`twitch:CHANNEL` (all Twitch channels share one connection) and `youtube:VIDEO` (a video
    id or any URL form; one poll per video)."""
    from vigile.connectors.twitch import TWITCH_IRC, TwitchSource
    from vigile.connectors.youtube import YouTubeSource
    from vigile.connectors.youtube_items import InvalidVideo

    channels, sources, problems = [], [], []
    for spec in specs:
        platform, _, target = spec.partition(":")
        if platform == "twitch" and target:
            channels.append(target)
        elif platform == "youtube" and target:
            try:
                sources.append(YouTubeSource(target, base_url=youtube_base_url))
            except InvalidVideo as exc:
                problems.append(f"{spec}: {exc}")
        else:
            problems.append(f"{spec}: expected twitch:CHANNEL or youtube:VIDEO_ID_OR_URL")
    if problems or not (channels or sources):
        raise ValueError("; ".join(problems) or "name at least one source, e.g. twitch:CHANNEL")
    if channels:
        token = os.environ.get("VIGILE_TWITCH_TOKEN")  # never printed, never stored
        login = os.environ.get("VIGILE_TWITCH_LOGIN") if token else None
        url = twitch_url or TWITCH_IRC
        sources.insert(0, TwitchSource(channels, url=url, login=login, token=token))
    return sources


def _live_plan(args: argparse.Namespace, kind: SessionKind) -> SessionPlan:
    from vigile.archive.command import recording_info
    from vigile.replay.pipeline import SessionPlan

    sources = live_sources(args.sources, args.twitch_url, args.youtube_base_url)
    name = "+".join(s.name.split(":", 1)[-1] for s in sources)
    if args.db:
        db = Path(args.db)
    else:
        db = _sessions_folder() / f"{_safe(name)}-{_stamp()}.db"
        db.parent.mkdir(parents=True, exist_ok=True)
    require_writable(db)
    info = {"sources": args.sources, **recording_info(args)}
    return SessionPlan(name, kind, sources, db, info, [Path(f) for f in args.rules or []])


def _sessions_folder() -> Path:
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "vigile" / "sessions"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_+" else "_" for c in name)[:80]


def cmd_watch(args: argparse.Namespace) -> int:
    from vigile.replay.pipeline import SessionKind

    try:
        config = _desk_config()
        args.rules = _desk_rules(args.rules, config)
        packs = _packs(args.rules)
        plan = _live_plan(args, SessionKind.LIVE)
    except (RulePackError, ValueError) as exc:
        return _fail("watch", str(exc))
    moderation = live_moderation(args.sources, args.helix_url, args.youtube_base_url)
    plan.sources += eventsub_sources(moderation, args.sources, args.eventsub_url)
    return _run_desk(plan, packs, "watch", moderation, config, args)


def cmd_record(args: argparse.Namespace) -> int:
    import asyncio

    from vigile.archive.command import archive_link
    from vigile.filters.triage import Triage
    from vigile.replay.pipeline import SessionKind

    try:
        triage = Triage(_packs(args.rules), author="record", origin="file")
        plan = _live_plan(args, SessionKind.LIVE)
        archive = archive_link(args, plan.db_path, pushes=True)
    except (RulePackError, ValueError) as exc:
        return _fail("record", str(exc))
    earlier = session_count(plan.db_path)
    try:
        pipeline = asyncio.run(_record(plan, triage, args.duration, archive))
    except Exception as exc:  # a store that cannot be written…
        raise CommandError(f"the recording stopped: {exc}", plan.db_path) from exc
    stats = pipeline.stats
    print(
        f"{count(stats.messages, 'message')} ({stats.flagged:,} flagged), "
        f"{count(stats.events, 'event')}: {_recorded(plan.db_path, earlier)}"
    )
    if archive is not None:  # the last push, the recording closed: the archive has it all
        print(archive.finish().describe())
    failed = [s for s in pipeline.hub.statuses() if s.state == "failed"]
    if failed:
        return _fail("record", "; ".join(f"{s.name} failed: {s.detail}" for s in failed), 1)
    return 0


async def _record(
    plan: SessionPlan, triage: Triage, duration: float | None, archive: ArchiveLink | None = None
) -> Pipeline:
    """Until the sources end, `duration` passes, or Ctrl-C / SIGTERM: then a clean final flush.
    `archive`: pushed to as it goes, in the background (never holding the recording back)."""
    import asyncio

    from vigile.replay.pipeline import run_session

    pipeline: list[Pipeline] = []
    task = asyncio.create_task(run_session(plan, triage, on_ready=pipeline.append))
    pushing = asyncio.create_task(archive.run()) if archive is not None else None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, task.cancel)
    if duration:
        loop.call_later(duration, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):  # stopped on purpose: flushed and closed
        await task
    if pushing is not None:
        pushing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pushing
    return pipeline[0]


def _default_recording(stem: str, db: str | None) -> Path:
    import tempfile

    if db:
        return Path(db)
    folder = Path(tempfile.mkdtemp(prefix="vigile-"))
    return folder / f"{stem}-{_stamp()}.db"


def cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from vigile.replay.pipeline import SessionKind
    from vigile.scenarios.format import load_scenario
    from vigile.scenarios.generate import write_session

    try:
        config = _desk_config()
        args.rules = _desk_rules(args.rules, config)
        packs = _packs(args.rules)
    except (RulePackError, ValueError) as exc:
        return _fail("demo", str(exc))
    recording = _default_recording("demo", args.db)
    # the generated chat the desk replays, beside the recording (a bilan finds its labels there)
    scenario_db = recording.with_name(f"{recording.stem}-scenario.db")
    require_writable(recording)
    if require_writable(scenario_db):
        remove_session(scenario_db)  # a previous demo's chat: regenerated, the same again
    with removed_on_failure(scenario_db):
        asyncio.run(write_session(load_scenario("demo"), scenario_db))
        plan = _replay_plan(
            "demo",
            SessionKind.DEMO,
            scenario_db,
            args.speed,
            recording,
            args.rules,
            "scenario:demo",
        )
        status = _run_desk(plan, packs, "demo", config=config, args=args)
        if status != 0:
            remove_session(scenario_db)
        else:
            print(f"The demo's generated chat (with its labels) is in {scenario_db}")
        return status


def cmd_replay(args: argparse.Namespace) -> int:
    from vigile.replay.pipeline import SessionKind

    source = Path(args.file)
    require(source)  # before the desk opens: a file that is not a session is refused here
    try:
        config = _desk_config()
        args.rules = _desk_rules(args.rules, config)
        packs = _packs(args.rules)
    except (RulePackError, ValueError) as exc:
        return _fail("replay", str(exc))
    speed = None if args.max else args.speed
    recording = _default_recording(f"{source.stem}-replay", args.db)
    require_writable(recording)
    if recording.resolve() == source.resolve():
        raise usage("is the session being replayed; record the replay elsewhere", recording)
    plan = _replay_plan(
        f"replay of {source.stem}", SessionKind.REPLAY, source, speed, recording, args.rules
    )
    return _run_desk(plan, packs, "replay", config=config, args=args)


def cmd_keys(args: argparse.Namespace) -> int:
    from vigile.tui.config import config_path
    from vigile.tui.keys import keys_table

    print(keys_table())
    print(f'\nRemap any of them in {config_path()}, table [keys]: "priority.ban" = "B"')
    return 0


# -- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    # the archive's options only: psycopg loads in the archive's commands, not here
    from vigile.archive.command import add_archive_parser, add_recording_options
    from vigile.tui.archive_cli import cmd_archive

    parser = Parser(
        prog="vigile", description="A terminal desk for moderating live Twitch and YouTube chats."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    rules_help = (
        "rule pack: a TOML file, 'starter' (every default starter pack) or 'starter:NAME'"
        " (e.g. starter:profanity-en); repeat for several; default: the starter packs"
    )

    p = sub.add_parser("demo", help="the desk on a bundled scenario, no account or network needed")
    p.add_argument("--speed", type=speed, default=1.0, help="pacing multiplier (default 1)")
    p.add_argument(
        "--db",
        help="where to record the demo session (default: a temporary file); the generated "
        "chat goes beside it, as NAME-scenario.db",
    )
    p.add_argument("--rules", action="append", help=rules_help)
    add_recording_options(p, pushes=False)
    _team_options(p)
    p.set_defaults(func=cmd_demo)

    for name, helptext in (
        ("watch", "the desk on live chats: twitch:CHANNEL, youtube:VIDEO_ID_OR_URL"),
        ("record", "headless recording of live chats until Ctrl-C or --duration"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "sources", nargs="+", metavar="SOURCE", help="twitch:CHANNEL or youtube:VIDEO_ID_OR_URL"
        )
        p.add_argument("--db", help="session file (default: the XDG data folder, vigile/sessions)")
        p.add_argument("--rules", action="append", help=rules_help)
        p.add_argument("--twitch-url", help="Twitch IRC WebSocket (tests: ws://127.0.0.1:PORT)")
        p.add_argument(
            "--youtube-base-url",
            help="every YouTube request goes here (tests: http://127.0.0.1:PORT)",
        )
        add_recording_options(p, pushes=True, desk=name == "watch")
        if name == "record":
            p.add_argument(
                "--duration",
                type=positive_number("a duration in seconds"),
                help="stop after this many seconds",
            )
        else:
            p.add_argument("--helix-url", help="Twitch API base (tests: http://127.0.0.1:PORT)")
            p.add_argument(
                "--eventsub-url", help="Twitch EventSub WebSocket (tests: ws://127.0.0.1:PORT)"
            )
            _team_options(p)
        p.set_defaults(func=cmd_watch if name == "watch" else cmd_record)

    add_login_parser(sub)

    p = sub.add_parser("replay", help="the desk on a recorded session")
    p.add_argument("file")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--speed", type=speed, default=1.0, help="pacing multiplier (default 1)")
    pace.add_argument("--max", action="store_true", help="as fast as possible")
    p.add_argument("--db", help="where to record this replay (default: a temporary file)")
    p.add_argument("--rules", action="append", help=rules_help)
    add_recording_options(p, pushes=False)
    _team_options(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check", help="judge stdin lines (text or JSON with 'text'): JSON lines out")
    p.add_argument("--rules", action="append", help=rules_help)
    p.add_argument(
        "--protect",
        action="append",
        metavar="NAME",
        help="the streamer's name: remarks naming them are aimed at them (repeatable)",
    )
    p.add_argument(
        "--jobs",
        choices=("auto", "1", "2"),
        default="auto",
        help="processes reading a large input: 2 uses a second core, auto (default) only when "
        "one is idle",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("scenario", help="generate a labelled session from a scenario")
    p.add_argument("scenario", help="a bundled scenario name (demo, esports-raid…) or a TOML file")
    p.add_argument("--db", required=True, help="session database to write")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument("--background", metavar="REAL.db", help="lay it over a real session's chat")
    p.add_argument(
        "--at", type=float, default=0.0, help="seconds into the background where it starts"
    )
    p.set_defaults(func=cmd_scenario)

    p = sub.add_parser("import", help="other tools' chat archives → a session to rehearse on")
    p.add_argument("files", nargs="+", metavar="FILE", help="archives (several: merged by time)")
    p.add_argument("--db", required=True, help="session database to write")
    p.add_argument(
        "--format",
        default="auto",
        choices=("auto", *IMPORT_FORMATS),
        help="which tool wrote the archives (default: detected for each file)",
    )
    p.add_argument(
        "--channel",
        help="[twitch:|youtube:]NAME: the channel (over what the archive says; IRC: only it)",
    )
    p.add_argument("--tz", default="UTC", help="time zone of times written without one")
    p.add_argument("--date", help="YYYY-MM-DD of [HH:MM:SS] logs; start of offsets (THH:MM)")
    p.add_argument("--columns", help="CSV: ts,user,text in file order, or ts=COL,user=COL,…")
    p.add_argument("--force", action="store_true", help="replace an existing database, once whole")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("label", help="hand labels: a TSV sheet of a session out, or back in")
    p.add_argument("file", help="a session database")
    way = p.add_mutually_exclusive_group(required=True)
    way.add_argument("--from", dest="source", metavar="FILE.tsv", help="read labels from a sheet")
    way.add_argument("--to", metavar="FILE.tsv", help="write every message to a sheet")
    p.set_defaults(func=cmd_label)

    p = sub.add_parser("loadtest", help="replay load test: throughput, latency, drops, memory")
    p.add_argument("file", help="a recorded or generated session")
    pace = p.add_mutually_exclusive_group(required=True)
    pace.add_argument("--speed", type=speed, help="original pacing × N")
    pace.add_argument("--max", action="store_true", help="as fast as possible")
    p.add_argument("--json", action="store_true", help="one JSON object on standard output")
    p.add_argument("--db", help="where to record the run (default: a temporary file)")
    p.add_argument("--rules", action="append", help=rules_help)
    p.set_defaults(func=cmd_loadtest)

    p = sub.add_parser("export-evidence", help="timestamped evidence dossier (CSV, JSON, manifest)")
    p.add_argument("file", help="a session database")
    p.add_argument("--out", required=True, help="folder to write the dossier into")
    p.add_argument("--all", action="store_true", help="every message, not only flagged ones")
    p.add_argument("--key", help="the Ed25519 key file that signs it (made if absent)")
    p.set_defaults(func=cmd_export_evidence)

    p = sub.add_parser("verify", help="check a session's or a dossier's hash chain")
    p.add_argument(
        "target", help="a session database, an exported dossier folder, or an archive's URL"
    )
    p.add_argument("--signed-by", help="a dossier must be signed by this key (ed25519:…)")
    p.add_argument("--session", type=int, help="with an archive's URL: the archived session id")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("keys", help="every key binding of the desk, by id (for the config file)")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("bilan", help="post-event report: HTML with charts, Markdown, JSON")
    p.add_argument("file", nargs="?", help="a session database")
    p.add_argument("--out", required=True, help="folder to write bilan.html, bilan.md, bilan.json")
    p.add_argument("--archive", help="a bilan over many events: the archive's postgresql:// URL")
    p.add_argument("--client", help="with --archive: the client whose events are reported")
    p.add_argument("--from", dest="date_from", help="with --archive: first day (2026-11-01)")
    p.add_argument("--to", dest="date_to", help="with --archive: last day, included (2026-11-30)")
    p.add_argument("--lang", choices=("fr", "en"), default="fr", help="wording (default fr)")
    p.add_argument("--tz", default="UTC", help="time zone of the times shown (e.g. Europe/Paris)")
    p.add_argument(
        "--target-minutes",
        type=positive_number("the response-time target in minutes"),
        default=5.0,
        help="response-time target (default 5)",
    )
    p.add_argument("--labels", help="the labelled scenario a rehearsal replayed, if it moved")
    p.set_defaults(func=cmd_bilan)

    add_hub_parser(sub)
    add_archive_parser(sub, cmd_archive)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args.command, args.func, args)


if __name__ == "__main__":
    sys.exit(main())
