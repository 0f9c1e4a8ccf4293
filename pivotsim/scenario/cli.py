"""``pivotsim run PATH...``: play scenario files and report.

Exit status: 0 every scenario passed (or was skipped); 1 a scenario failed;
2 bad input: a file that does not load (each problem is printed as
``file:line:col: message``), a scenario that cannot run as written (a target
that does not import, an unset variable), bad options, or ``-k`` selecting nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from typing import Any

__all__ = ["register", "keyword_matcher", "main"]


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run scenario files (*.pivot.yaml) and report",
        description="Play every scenario in the files and folders given (folders: every *.pivot.yaml "
        "inside) and report each step. Exit 0 all passed, 1 any failed, 2 bad input.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="scenario files, or folders to search")
    p.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report (one testcase per scenario)")
    p.add_argument("--json", metavar="FILE", help="write results, steps and transcripts as JSON")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="only scenarios whose id or tags match: words, and/or/not, parentheses "
                   "(e.g. -k 'pin and not wrong')")
    p.add_argument("-x", "--fail-fast", action="store_true", help="stop after the first failing scenario")
    p.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show every step of passing scenarios too")
    p.add_argument("-q", "--quiet", action="store_true", help="only failures and the summary")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                   help="set a variable for every scenario (wins over the files; repeatable)")
    p.add_argument("--target", metavar="TARGET", help="play every scenario against this target instead")
    p.add_argument("--list", action="store_true", help="list the selected scenario ids and exit")
    p.set_defaults(func=_cmd_run)


# -- -k expressions -------------------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def keyword_matcher(expr: str) -> Any:
    """``-k`` as pytest reads it: words match case-insensitive substrings; and, or, not, ( ).

    Unlike pytest, adjacent words mean ``and``: ``-k "silent caller"`` selects ids holding both.
    """
    tokens = [t for t in _TOKEN.findall(expr) if t]
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        return tok

    def p_or() -> Any:
        left = p_and()
        while peek() == "or":
            take()
            right = p_and()
            left = (lambda a, b: lambda text: a(text) or b(text))(left, right)
        return left

    def p_and() -> Any:
        left = p_not()
        while peek() not in (None, ")", "or"):  # adjacent words: "silent caller" is "silent and caller"
            if peek() == "and":
                take()
            right = p_not()
            left = (lambda a, b: lambda text: a(text) and b(text))(left, right)
        return left

    def p_not() -> Any:
        if peek() == "not":
            take()
            inner = p_not()
            return lambda text: not inner(text)
        return p_atom()

    def p_atom() -> Any:
        tok = peek()
        if tok is None:
            raise ValueError("the expression ends too early")
        if tok == "(":
            take()
            inner = p_or()
            if peek() != ")":
                raise ValueError("a ( is not closed")
            take()
            return inner
        if tok in (")", "and", "or"):
            raise ValueError(f"unexpected {tok!r}")
        word = take().lower()
        return lambda text: word in text

    if not tokens:
        raise ValueError("the expression is empty")
    fn = p_or()
    if pos != len(tokens):
        raise ValueError(f"unexpected {tokens[pos]!r}")
    return fn


def _cmd_run(args: argparse.Namespace) -> int:
    from ..cli import UsageError
    from .loader import SourceError, load_paths
    from .reporters import TextReporter, write_json, write_junit, write_junit_problems
    from .runner import Runner

    variables: dict[str, str] = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise UsageError(f"--var wants NAME=VALUE, got {item!r}")
        variables[name] = value
    select = None
    if args.keyword:
        try:
            select = keyword_matcher(args.keyword)
        except ValueError as exc:
            raise UsageError(f"-k {args.keyword!r}: {exc}") from None
    for option, path in (("--junit-xml", args.junit_xml), ("--json", args.json)):
        if path:
            _check_writable(option, path)
    reporter = TextReporter(verbose=args.verbose, quiet=args.quiet,
                            progress=False if args.no_progress else None)
    started = time.perf_counter()
    warnings: list[str] = []
    try:
        scenarios = load_paths(args.paths, variables=variables, warnings=warnings)
    except SourceError as exc:
        reporter.problems(exc.problems)
        n = len(exc.problems)
        reporter.problems([f"{n} problem{'s' if n != 1 else ''} in the scenario files; nothing was run"])
        if args.junit_xml:  # CI looks for the report: give it one testcase per file that did not load
            write_junit_problems(args.junit_xml, exc.problems)
        return 2
    reporter.problems(warnings)
    if select is not None:
        scenarios = [s for s in scenarios if select((s.id + " " + " ".join(s.tags)).lower())]
        if not scenarios:
            raise UsageError(f"-k {args.keyword!r} selects no scenario")
    if args.list:
        for s in scenarios:
            print(s.id)
        return 0
    runner = Runner(variables=variables, target=args.target)
    reporter.start(scenarios)
    results = runner.run_all(scenarios, fail_fast=args.fail_fast, on_start=reporter.scenario_started,
                             on_result=reporter.scenario_done)
    seconds = time.perf_counter() - started
    extra = []
    if args.junit_xml:
        write_junit(args.junit_xml, results, seconds=seconds)
        extra.append(f"JUnit XML: {args.junit_xml}")
    if args.json:
        write_json(args.json, results, seconds=seconds)
        extra.append(f"JSON: {args.json}")
    reporter.finish(results, seconds, extra)
    statuses = {r.status for r in results}
    if "error" in statuses:
        return 2
    return 1 if "failed" in statuses else 0


def _check_writable(option: str, path: str) -> None:
    """A report that cannot be written should fail in a second, not after the whole run."""
    from ..cli import UsageError

    target = os.path.abspath(path)
    folder = os.path.dirname(target)
    if os.path.isdir(target):
        raise UsageError(f"{option} {path}: is a folder; give a file name")
    if not os.path.isdir(folder):
        raise UsageError(f"{option} {path}: the folder {os.path.dirname(path) or '.'} does not exist")
    if not os.access(target if os.path.exists(target) else folder, os.W_OK):
        raise UsageError(f"{option} {path}: not writable")


def main(argv: list[str] | None = None) -> int:
    """``python -m pivotsim.scenario.cli PATH...``, the same as ``pivotsim run``."""
    from ..cli import main as pivotsim_main

    return pivotsim_main(["run", *(argv or [])])
