"""`vigile hub`: run the team hub until Ctrl-C or SIGTERM. Headless: no Textual here."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vigile.team.protocol import CLAIM_TTL_S, ROLES

if TYPE_CHECKING:  # the hub's modules load when it runs or its desks change, not for --help
    import ssl

DEFAULT_LISTEN = "127.0.0.1:8765"


def add_hub_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("hub", help="team desk: rule sync, claims, roster (desks join with --team)")
    p.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        help=f"HOST:PORT to listen on (default {DEFAULT_LISTEN}; port 0: any free)",
    )
    p.add_argument(
        "--db", help="the hub's state file (default: the XDG data folder, vigile/hub.db)"
    )
    p.add_argument("--cert", help="TLS certificate (PEM): desks then join with wss://")
    p.add_argument("--key", help="the certificate's private key (PEM)")
    desks = p.add_mutually_exclusive_group()
    desks.add_argument(
        "--add-desk",
        metavar="NAME",
        help="give the desk NAME its own token (shown once) and stop; needs --role",
    )
    desks.add_argument(
        "--revoke-desk",
        metavar="NAME",
        help="revoke NAME's token and stop; a running hub cuts that desk off within seconds",
    )
    desks.add_argument("--list-desks", action="store_true", help="list the desks and stop")
    p.add_argument("--role", choices=ROLES, help="the role of --add-desk's desk")
    p.add_argument(
        "--claim-seconds",
        type=float,
        default=CLAIM_TTL_S,
        help=f"a claim nobody acts on returns to the queue (default {CLAIM_TTL_S:g})",
    )
    p.set_defaults(func=cmd_hub)


def _fail(message: str, code: int = 2) -> int:
    print(f"vigile hub: {message}", file=sys.stderr)
    return code


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--listen {value!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]"), int(port)


def _is_loopback(host: str) -> bool:
    import ipaddress  # read for the hub's --listen only, not at every start of the command line

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _hub_file(args: argparse.Namespace) -> Path:
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    db = Path(args.db) if args.db else Path(data) / "vigile" / "hub.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    return db


def _manage_desks(args: argparse.Namespace, db: Path) -> int:
    import time

    from vigile.team.desks import DeskError, add_desk, list_desks, revoke_desk
    from vigile.team.state import HubStateError

    """--add-desk, --revoke-desk, --list-desks: change the hub's file and stop."""
    try:
        if args.add_desk is not None:
            if args.role is None:
                return _fail("--add-desk needs --role moderator or --role supervisor")
            token = add_desk(db, args.add_desk, args.role)
            print(
                f"Desk {args.add_desk.strip()!r} ({args.role}). Its token, shown once: "
                f"hand it to that person only.\n  {token}\n"
                "The desk passes it in the VIGILE_TEAM_TOKEN environment variable, with "
                f"--name {args.add_desk.strip()}.",
                flush=True,
            )
        elif args.revoke_desk is not None:
            revoke_desk(db, args.revoke_desk)
            print(f"Desk {args.revoke_desk!r} revoked: its token no longer opens the hub.")
        else:
            for desk in list_desks(db):
                added = time.strftime("%Y-%m-%d %H:%M", time.localtime(desk.created))
                print(f"{desk.name}\t{desk.role}\tadded {added}")
    except DeskError as exc:
        return _fail(str(exc))
    except HubStateError as exc:
        return _fail(str(exc), 1)
    return 0


def cmd_hub(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import ssl

    from vigile.team.state import HubStateError

    if args.role is not None and args.add_desk is None:
        return _fail("--role goes with --add-desk")
    if args.add_desk is not None or args.revoke_desk is not None or args.list_desks:
        return _manage_desks(args, _hub_file(args))
    try:
        host, port = parse_listen(args.listen)
    except ValueError as exc:
        return _fail(str(exc))
    tls = None
    if args.cert or args.key:
        if not (args.cert and args.key):
            return _fail("TLS needs both --cert and --key")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            tls.load_cert_chain(args.cert, args.key)
        except (OSError, ssl.SSLError) as exc:
            return _fail(f"the certificate or key cannot be used: {exc}")
    elif not _is_loopback(host):
        print(
            "vigile hub: warning: listening beyond this machine without TLS; tokens and "
            "rules travel in clear. Use --cert and --key.",
            file=sys.stderr,
        )
    db = _hub_file(args)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    try:
        return asyncio.run(_serve(host, port, tls, db, args.claim_seconds))
    except HubStateError as exc:
        return _fail(str(exc), 1)
    except OSError as exc:  # the port is taken, the address is not this machine's…
        return _fail(f"cannot listen on {host}:{port}: {exc}", 1)


async def _serve(host: str, port: int, tls: ssl.SSLContext | None, db: Path, claim_s: float) -> int:
    import asyncio
    import signal

    from vigile.team.server import TeamHub
    from vigile.team.state import HubState

    state = await HubState.open(db)
    try:
        if not await state.desks():
            print(
                "No desk can join yet: give each person a token with "
                f"`vigile hub --db {db} --add-desk NAME --role moderator|supervisor`.",
                flush=True,
            )
        hub = TeamHub(state, claim_ttl_s=claim_s)
        async with hub.serving(host, port, tls) as server:
            bound = next(iter(server.sockets)).getsockname()[1]
            scheme = "wss" if tls else "ws"
            versions = hub.shared.rules.version if hub.shared.rules else 0
            print(
                f"Hub listening on {scheme}://{host}:{bound} (rules v{versions}, state in {db}); "
                "Ctrl-C stops it.",
                flush=True,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await stop.wait()
    finally:
        await state.close()
    return 0
