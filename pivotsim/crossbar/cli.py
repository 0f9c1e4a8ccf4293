"""``pivotsim serve``: the fake Crossbar on a local port, for curl, Postman and your app's code.

``--account NAME`` and ``--user USERNAME:PASSWORD`` may repeat; each user belongs to
the account named before it. The first account is the master (a super-duper admin).

Exit status (docs/crossbar.md): 0 after a clean stop (Ctrl-C or SIGTERM); 1 when it
cannot listen (address in use, unknown host); 2 for bad options or input files (a bad
port, seed or state file); 3 for an internal error. Every failure is one line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["register", "add_serve_parser", "add_serve_arguments", "serve_main", "build_app"]


#: ``serve``'s exit status when it cannot listen (documented in docs/crossbar.md).
EXIT_CANNOT_LISTEN = 1


class ServeError(Exception):
    """Bad serve options: one line, exit 2."""


class ListenError(Exception):
    """The address cannot be listened on (in use, unknown host): one line, exit 1."""


def _usage_error(message: str) -> Exception:
    """The main CLI's UsageError when it is there (one-line message, exit 2), else ours."""
    try:
        from pivotsim.cli import UsageError

        return UsageError(message)
    except ImportError:  # pragma: no cover - the main CLI always ships with the package
        return ServeError(message)


class _Ordered(argparse.Action):
    """Keeps --account and --user in command-line order, so users land in the right account."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        items = list(getattr(namespace, "accounts_and_users", None) or [])
        items.append((option_string, str(values)))
        namespace.accounts_and_users = items


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000, as Crossbar)")
    p.add_argument("--account", metavar="NAME", action=_Ordered, dest="accounts_and_users",
                   help="create an account (repeatable; the first is the master account)")
    p.add_argument("--user", metavar="USERNAME:PASSWORD", action=_Ordered, dest="accounts_and_users",
                   help="create a user in the account named before it (repeatable)")
    p.add_argument("--seed", metavar="FILE", help="YAML fixtures: accounts, users, resources, callflows, "
                   "click-to-calls, caller scripts (see docs/crossbar.md)")
    p.add_argument("--state", metavar="FILE", help="keep everything in this SQLite file (default: in memory)")
    p.add_argument("--kazoo-blacklist", action="store_true",
                   help="reject voice_urls on localhost/127.0.0.1/0.0.0.0 as a stock Kazoo does")
    p.add_argument("--token-ttl", type=int, default=3600, metavar="SECONDS",
                   help="lifetime of auth tokens (default 3600, as Kazoo)")
    p.add_argument("--caller", metavar="CONTACT=SCRIPT", action="append", default=[],
                   help="what a contact does when dialled: presses (1234,,2) or busy, no_answer, ...")
    p.add_argument("--connect-to", metavar="HOST1:PORT1:HOST2:PORT2", action="append", default=[],
                   help="send Pivot requests for HOST1:PORT1 to HOST2:PORT2 (as curl --connect-to)")
    p.add_argument("--sync-calls", action="store_true",
                   help="run the call before connect answers (Kazoo answers first, then dials)")
    p.add_argument("--quiet", action="store_true", help="do not log each request")


def register(subparsers: Any) -> None:
    """Add ``serve`` to the main ``pivotsim`` command line."""
    p = subparsers.add_parser(
        "serve",
        help="run the fake Kazoo Crossbar API (user_auth, resources, callflows, clicktocall, ...)",
        description="Run a fake Kazoo Crossbar API on a local port. connect places the simulated "
        "call, so your Pivot server receives Kazoo's requests.",
    )
    add_serve_arguments(p)
    p.set_defaults(func=run_serve)


add_serve_parser = register


def seed_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--seed`` file with ``--account``/``--user``/``--caller`` merged in."""
    from .calls import parse_script
    from .seed import SeedError, load_seed_file

    seed: dict[str, Any] = {}
    if args.seed:
        try:
            seed = load_seed_file(args.seed)
        except SeedError as exc:  # its message starts with the file name (and line:column)
            raise _usage_error(f"--seed {exc}") from None
        except (OSError, ValueError) as exc:
            raise _usage_error(f"--seed {args.seed}: {exc}") from None
    accounts: list[dict[str, Any]] = list(seed.get("accounts") or [])
    current: dict[str, Any] | None = None
    for option, value in getattr(args, "accounts_and_users", None) or []:
        if option == "--account":
            current = next((a for a in accounts if isinstance(a, dict) and a.get("name") == value), None)
            if current is None:
                current = {"name": value}
                accounts.append(current)
        else:
            username, sep, password = value.partition(":")
            if not sep or not username:
                raise _usage_error(f"--user wants USERNAME:PASSWORD, got {value!r}")
            if current is None:
                raise _usage_error("--user must follow the --account it belongs to")
            current.setdefault("users", []).append({"username": username, "password": password})
    if accounts:
        seed["accounts"] = accounts
    callers = dict(seed.get("callers") or {})
    for spec in args.caller:
        contact, sep, script = spec.partition("=")
        if not sep or not contact:
            raise _usage_error(f"--caller wants CONTACT=SCRIPT, got {spec!r}")
        try:
            parse_script(script)  # checked here, so the error names --caller, not the seed
        except ValueError as exc:
            raise _usage_error(f"--caller {spec}: {exc}") from None
        callers[contact] = script
    if callers:
        seed["callers"] = callers
    return seed


def check_port(port: int) -> None:
    """A TCP port is 0-65535; the socket layer would wrap 99999 to 34463 or overflow on -1."""
    if not 0 <= port <= 65535:
        raise _usage_error(f"--port: {port} is not a TCP port (0-65535; 0 picks a free one)")


def _state_problem(path: str, exc: BaseException) -> str:
    """One line naming the ``--state`` file and what is wrong with it."""
    if os.path.isdir(path):
        why = "it is a directory"
    elif not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        why = "its directory does not exist"
    elif isinstance(exc, OSError) and exc.strerror:
        why = exc.strerror
    else:
        why = str(exc) or type(exc).__name__
    return f"--state {path}: cannot use it as pivotsim's SQLite state file: {why}"


def build_app(args: argparse.Namespace) -> Any:
    """The Flask app ``serve`` runs, from parsed arguments."""
    import sqlite3

    from pivotsim import Engine, HTTPTransport, Options, make_validator
    from pivotsim._transports import parse_connect_to

    from .app import create_app
    from .seed import SeedError

    strict = bool(args.kazoo_blacklist)
    connect_to = list(args.connect_to)
    try:
        parse_connect_to(connect_to)
    except ValueError as exc:
        raise _usage_error(f"--connect-to: {exc}") from None

    def engine_factory() -> Any:
        return Engine(
            HTTPTransport(connect_to=connect_to),
            validator=make_validator(strict_blacklist=strict),
            options=Options(strict_blacklist=strict),
        )

    if args.token_ttl <= 0:
        raise _usage_error("--token-ttl must be positive")
    try:
        return create_app(
            args.state,
            engine_factory=engine_factory,
            seed=seed_from_args(args),
            token_ttl=args.token_ttl,
            blacklist_strict=strict,
            background_calls=not args.sync_calls,
        )
    except SeedError as exc:
        raise _usage_error(f"seed: {exc}") from None
    except (sqlite3.Error, OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        # (JSONDecodeError: an SQLite file whose docs table is not pivotsim's.)
        if not args.state:
            raise
        raise _usage_error(_state_problem(args.state, exc)) from None


def _banner(app: Any, host: str, port: int) -> str:
    from .accounts import live_accounts
    from .app import crossbar_of
    from .base import account_db

    cb = crossbar_of(app)
    lines = [f"pivotsim: fake Kazoo Crossbar on http://{host}:{port}/v2"]
    accounts = sorted(live_accounts(cb), key=lambda a: (len(a.get("pvt_tree", [])), a.get("pvt_created", 0)))
    if not accounts:
        lines.append("  no accounts yet: add --account NAME --user USERNAME:PASSWORD to log in")
    for acct in accounts:
        users = sorted(u.get("username", "") for u in cb.store.of_type(account_db(acct["_id"]), "user"))
        role = " (master)" if not acct.get("pvt_tree") else ""
        lines.append(f"  account {acct.get('name')!r}{role} id {acct['_id']} realm {acct.get('realm')}")
        lines.append(f"    api_key {acct.get('pvt_api_key')}; users: {', '.join(users) or '-'}")
    return "\n".join(lines)


def listen_socket(host: str, port: int) -> socket.socket:
    """Bind and listen ourselves, so a failure is one line (Werkzeug prints two and exits 1)."""
    from werkzeug.serving import select_address_family

    family = select_address_family(host, port)
    where = f"{host}:{port}"
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, socket.IPPROTO_TCP, socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        why = exc.strerror if isinstance(exc, socket.gaierror) and exc.strerror else str(exc)
        raise ListenError(f"cannot listen on {where}: unknown host ({why})") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(infos[0][4])
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return sock


def _stop_on_sigterm() -> Any:
    """SIGTERM (``kill``, ``docker stop``) stops as cleanly as Ctrl-C: exit 0.

    Returns the handler it replaced (None off the main thread, where none is set), so
    an in-process caller such as a test gets its own back.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, stop)


def run_serve(args: argparse.Namespace) -> int:
    """Serve until stopped: 0 on a clean stop, 1 if the address cannot be listened on."""
    import logging

    from werkzeug.serving import make_server

    check_port(args.port)
    # Before anything listens: a SIGTERM as soon as the port answers must already be a clean stop.
    previous = _stop_on_sigterm()
    server: Any = None
    try:
        app = build_app(args)
        if args.quiet:
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
        if args.host.startswith("unix://"):
            try:
                server = make_server(args.host, args.port, app, threaded=True)
            except SystemExit:  # Werkzeug has already said why
                return EXIT_CANNOT_LISTEN
        else:
            try:
                sock = listen_socket(args.host, args.port)
            except ListenError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_CANNOT_LISTEN
            try:
                server = make_server(args.host, args.port, app, threaded=True, fd=sock.fileno())
            finally:
                sock.close()  # the server holds its own duplicate
        print(_banner(app, args.host, server.port), file=sys.stderr, flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if server is not None:
            server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


def serve_main(argv: Sequence[str] | None = None) -> int:
    """``pivotsim serve`` on its own (``python -m pivotsim.crossbar``): exit 0, or 2 on bad options."""
    parser = argparse.ArgumentParser(prog="pivotsim serve", description="Run the fake Kazoo Crossbar API.")
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run_serve(args)
    except Exception as exc:
        if type(exc).__name__ in ("UsageError", "ServeError"):
            print(f"error: {exc}", file=sys.stderr)
            return 2
        raise
