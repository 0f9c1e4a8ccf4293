"""``pivotsim`` command line: ``call`` one call, ``run`` scenario files, ``serve`` the fake Crossbar.

Exit codes: 0 the command ran (for ``call``, whatever the call's outcome; for
``run``, every scenario passed); 1 a scenario failed; 2 usage or input error,
with a one-line message; 3 pivotsim itself failed (a bug: please report it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

__all__ = ["main", "UsageError"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """Bad input from the user: reported as one line, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


class _Append(argparse.Action):
    """Keeps --press/--type-ahead/--hangup in the order given: one shared caller script."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option_string: str | None = None) -> None:
        from ._caller import Hangup, Press, Silence, TypeAhead

        items = list(getattr(namespace, self.dest, None) or [])
        if option_string == "--hangup":
            items.append(Hangup())
        else:
            digits = str(values)
            bad = [c for c in digits if c not in "0123456789*#ABCDabcd"]
            if bad:
                raise UsageError(f"{option_string}: {bad[0]!r} is not a DTMF digit (use 0-9, *, #, A-D)")
            if option_string == "--type-ahead":
                items.append(TypeAhead(digits))
            else:
                items.append(Press(digits) if digits else Silence())
        setattr(namespace, self.dest, items)


def _key_value(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"{what} wants KEY=VALUE, got {text!r}")
    return key, value


def _positive(unit: str) -> Callable[[str], int]:
    """An argparse type: a positive whole number (``unit`` names it in the error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number{unit}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be positive")
        return value

    return parse


_positive_ms = _positive(" of milliseconds")
_positive_count = _positive("")


def _add_call_parser(sub: Any) -> None:
    p = sub.add_parser(
        "call",
        help="place one call against a Pivot server and print the transcript",
        description="Place one call against TARGET (a URL, or module:attr naming a WSGI app) "
        "through a pivot node, as a real Kazoo would, and print what happened.",
    )
    p.add_argument("target", help="http(s)://... URL of the Pivot server, or module:attr of a WSGI app")
    p.add_argument("--voice-url", help="the voice_url Kazoo requests (default: the target URL, or "
                   "http://pivot.example/ for an in-process app)")
    g = p.add_argument_group("the pivot node")
    g.add_argument("--method", choices=["get", "post", "GET", "POST"], default="get")
    g.add_argument("--req-format", choices=["kazoo", "twiml"], default="kazoo")
    g.add_argument("--req-body-format", choices=["form", "json"], default=None)
    g.add_argument("--req-timeout-ms", type=_positive_ms, default=None, help="at most 5000, as Kazoo's schema says")
    g.add_argument("--cdr-url", default=None, help="POST the CDR here when the call ends (TwiML sessions)")
    g.add_argument("--debug", action="store_true", help="the node's debug flag (pivot debug docs)")
    c = p.add_argument_group("the caller")
    c.add_argument("--press", dest="actions", action=_Append, metavar="DIGITS",
                   help="digits for the next input point, in order; '' stays silent there (repeatable)")
    c.add_argument("--type-ahead", dest="actions", action=_Append, metavar="DIGITS",
                   help="digits pressed over the next prompt (repeatable, ordered with --press)")
    c.add_argument("--hangup", dest="actions", action=_Append, nargs=0,
                   help="hang up at the next prompt or input point (ordered with --press)")
    c.add_argument("--hangup-after-ms", type=_positive_ms, default=None, help="hang up at this virtual time")
    c.add_argument("--caller-id-name", default=None, help="'' means the caller sent no name")
    c.add_argument("--caller-id-number", default=None)
    c.add_argument("--from", dest="from_user", default=None, help="SIP From user")
    c.add_argument("--to", dest="to_user", default=None, help="SIP To (and Request) user: the number dialled")
    c.add_argument("--request", dest="request_user", default=None, help="SIP Request-URI user (default: --to)")
    c.add_argument("--realm", default=None, help="the account's SIP realm, for From/To/Request-Realm")
    c.add_argument("--cav", action="append", default=[], metavar="KEY=VALUE",
                   help="a Custom Application Var already on the call (repeatable)")
    c.add_argument("--sip-header", action="append", default=[], metavar="KEY=VALUE", help="a custom SIP header")
    c.add_argument("--user-id", action="append", default=[], help="owner id of the calling device (repeatable)")
    c.add_argument("--language", default="en-us")
    c.add_argument("--account-id", default=None)
    c.add_argument("--call-id", default=None)
    c.add_argument("--seed", type=int, default=0, help="seed for the generated call properties (default 0)")
    k = p.add_argument_group("the simulated Kazoo")
    k.add_argument("--connect-to", action="append", default=[], metavar="HOST1:PORT1:HOST2:PORT2",
                   help="send requests for HOST1:PORT1 to HOST2:PORT2, as curl does (repeatable)")
    k.add_argument("--kazoo-blacklist", action="store_true",
                   help="blacklisted voice_urls in replies fail validation as in Kazoo (default: a warning)")
    k.add_argument("--kazoo-schemas", metavar="DIR", default=None,
                   help="validate replies with the schema files of a Kazoo checkout "
                   "(applications/crossbar/priv/couchdb/schemas)")
    k.add_argument("--fixtures", metavar="FILE", default=None,
                   help="YAML of menus, users, devices, callflows, outcomes... for simulated modules")
    k.add_argument("--max-steps", type=_positive_count, default=500, help="stop a flow that never ends (default 500)")
    k.add_argument("--intended", action="store_true",
                   help="run what Kazoo's docs intend instead of emulating its bugs")
    k.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                   help="any engine option, e.g. connect_error=failed or pivot_event_wait_ms=8000 "
                   "(docs/fidelity.md lists them)")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print the transcript record as JSON")
    o.add_argument("-v", "--verbose", action="store_true", help="show every module and full URLs")
    p.set_defaults(func=_cmd_call)


def parse_options(pairs: Sequence[str], **base: Any) -> Any:
    """``NAME=VALUE`` engine options, typed from :class:`pivotsim.Options`'s own defaults."""
    import dataclasses

    from ._options import Options

    defaults = Options()
    values: dict[str, Any] = dict(base)
    for text in pairs:
        name, value = _key_value(text, "--option")
        if not hasattr(defaults, name):
            known = ", ".join(f.name for f in dataclasses.fields(Options))
            raise UsageError(f"--option: unknown option {name!r}; known: {known}")
        current = getattr(defaults, name)
        try:
            if isinstance(current, bool):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                values[name] = value.lower() in ("true", "1", "yes")
            elif isinstance(current, int):
                values[name] = int(value)
            else:
                values[name] = value
        except ValueError:
            kind = {"bool": "boolean", "int": "whole number"}.get(type(current).__name__, "string")
            raise UsageError(f"--option {name}: {value!r} is not a {kind}") from None
    try:
        return Options(**values)
    except ValueError as exc:
        raise UsageError(f"--option: {exc}") from None


def _load_fixtures(path: str | None) -> Any:
    from ._fixtures import Fixtures

    if not path:
        return None
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except OSError as exc:
        raise UsageError(f"--fixtures: cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise UsageError(f"--fixtures: {path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is not None and not isinstance(data, dict):
        raise UsageError(f"--fixtures: {path}: the top level must be a mapping")
    try:
        return Fixtures.from_dict(data)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--fixtures: {path}: {exc}") from None


def _cmd_call(args: argparse.Namespace) -> int:
    from . import Caller, CallProperties, place_call, render_text
    from ._targets import TargetError

    if args.req_timeout_ms is not None and args.req_timeout_ms > 5000:
        raise UsageError(f"--req-timeout-ms: {args.req_timeout_ms} is over Kazoo's maximum of 5000")
    from ._transports import parse_connect_to

    try:
        parse_connect_to(args.connect_to)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    cavs = dict(_key_value(x, "--cav") for x in args.cav)
    headers = dict(_key_value(x, "--sip-header") for x in args.sip_header)
    props = CallProperties(
        account_id=args.account_id,
        call_id=args.call_id,
        caller_id_name=args.caller_id_name,
        caller_id_number=args.caller_id_number,
        from_user=args.from_user,
        to_user=args.to_user,
        request_user=args.request_user or args.to_user,
        from_realm=args.realm,
        to_realm=args.realm,
        request_realm=args.realm,
        language=args.language,
        custom_application_vars=cavs,
        custom_sip_headers=headers,
        user_ids=tuple(args.user_id),
        seed=args.seed,
    )
    caller = Caller(args.actions or (), hangup_after_ms=args.hangup_after_ms)
    options = parse_options(
        args.option, max_steps=args.max_steps, strict_blacklist=args.kazoo_blacklist, faithful=not args.intended
    )
    fixtures = _load_fixtures(args.fixtures)
    if args.kazoo_schemas:
        from . import make_validator

        try:
            make_validator(kazoo_schemas=args.kazoo_schemas)
        except OSError as exc:
            raise UsageError(f"--kazoo-schemas: {exc}") from None
    try:
        transcript = place_call(
            args.target,
            voice_url=args.voice_url,
            method=args.method.lower(),
            req_format=args.req_format,
            req_body_format=args.req_body_format,
            req_timeout_ms=args.req_timeout_ms,
            cdr_url=args.cdr_url,
            debug=True if args.debug else None,
            call=props,
            caller=caller,
            fixtures=fixtures,
            options=options,
            connect_to=args.connect_to,
            kazoo_schemas=args.kazoo_schemas,
        )
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(transcript.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render_text(transcript, verbose=args.verbose))
    if "pivotsim.internal" in transcript.diagnostic_codes():
        # Printed first: what the call recorded up to the failure is kept.
        print("pivotsim: internal error during the call (see its diagnostics; please report this)",
              file=sys.stderr)
        return EXIT_INTERNAL
    return EXIT_OK


# Subcommands contributed by other parts of the package: (module, function name).
_PLUGINS = (("pivotsim.scenario.cli", "register"), ("pivotsim.crossbar.cli", "register"))


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="pivotsim", description="A faithful offline Kazoo for testing Pivot servers.")
    parser.add_argument("--version", action="version", version=f"pivotsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_call_parser(sub)
    for mod_name, fn_name in _PLUGINS:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        getattr(mod, fn_name)(sub)
    return parser


def _check_utf8(argv: Sequence[str]) -> None:
    """Bytes that are not UTF-8 reach Python as surrogates, which no request can carry."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = os.fsencode(arg).decode("ascii", "backslashreplace")
            raise UsageError(f"argument '{shown}' is not valid UTF-8") from None


def _tolerant_output() -> None:
    """Whatever a server sent, printing it must not be what fails."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        _tolerant_output()
        argv = list(sys.argv[1:] if argv is None else argv)
        _check_utf8(argv)
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_usage(sys.stderr)
            raise UsageError("pivotsim: name a command (call, run, serve)")
        return int(args.func(args))
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # never a traceback for the user
        print(f"pivotsim: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
