"""The failure message: the step, its source lines, what differed, and a focused diff.

Shared by the ``pivotsim run`` text report, the JUnit ``<failure>`` body and the
pytest plugin, so a failure reads the same everywhere.
"""

from __future__ import annotations

import difflib
import json
import os
from functools import lru_cache
from typing import Any

from ..._render import render_text
from ..matchers import MISSING, Matcher, scalar_equal
from ..runner import ScenarioResult, StepResult
from ..source import Loc

__all__ = ["format_failure", "one_line", "source_excerpt", "focused_diff"]

_MAX_TRANSCRIPT_LINES = 80


def _lines(file: str) -> tuple[str, ...]:
    """The file's lines; cached by absolute path and modification time, since the same
    relative name may be another file after a ``chdir`` (or rewritten since)."""
    try:
        st = os.stat(file)
    except OSError:
        return ()
    return _read_lines(os.path.abspath(file), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _read_lines(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8") as fh:
            return tuple(fh.read().splitlines())
    except (OSError, UnicodeDecodeError):
        return ()


def source_excerpt(loc: Loc, before: int = 2, after: int = 2) -> list[str]:
    """The lines around ``loc``, numbered, the line itself marked with ``>``."""
    lines = _lines(loc.file)
    if not lines or loc.line > len(lines):
        return []
    lo = max(1, loc.line - before)
    hi = min(len(lines), loc.line + after)
    width = len(str(hi))
    out = []
    for n in range(lo, hi + 1):
        mark = ">" if n == loc.line else " "
        out.append(f"{mark} {n:>{width}} | {lines[n - 1]}")
    return out


def _render(value: Any) -> Any:
    if isinstance(value, Matcher):
        return value.describe()
    if value is MISSING:
        return "<missing>"
    if isinstance(value, dict):
        return {str(k): _render(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v) for v in value]
    return value


def _project(expected: Any, actual: Any) -> Any:
    """``actual`` in the shape of ``expected``; where they agree it shows ``expected``."""
    if isinstance(expected, Matcher):
        return expected if expected.matches(actual) else actual
    if actual is MISSING:
        return MISSING
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _project(v, actual.get(k, MISSING)) for k, v in expected.items()}
    if isinstance(expected, list) and isinstance(actual, list):
        return [_project(e, actual[i]) if i < len(actual) else MISSING for i, e in enumerate(expected)]
    if not isinstance(expected, (dict, list)) and scalar_equal(expected, actual):
        return expected
    return actual


def focused_diff(expected: Any, actual: Any) -> list[str]:
    """A unified diff of expected against the actual value projected onto expected's keys."""
    if expected is None and actual is None:
        return []
    from ..loader import expected_values

    exp = expected_values(expected, None, ()) if isinstance(expected, (dict, list)) else expected
    if isinstance(exp, str) and isinstance(actual, str):
        a, b = [exp], [actual]
    else:
        proj = _project(exp, actual if actual is not None else MISSING)
        a = json.dumps(_render(exp), indent=2, ensure_ascii=False, default=str).splitlines()
        b = json.dumps(_render(proj), indent=2, ensure_ascii=False, default=str).splitlines()
    if a == b:
        return []
    diff = list(difflib.unified_diff(a, b, "expected", "actual", lineterm="", n=2))
    body = diff[2:] if len(diff) > 2 else diff
    if len(a) == 1 and len(b) == 1:
        body = [ln for ln in body if not ln.startswith("@@")]
    return body


def _step_index(result: ScenarioResult, step: StepResult) -> str:
    same = [s for s in result.steps if s.section == step.section]
    i = same.index(step) + 1
    noun = "step" if step.section == "steps" else "finally step"
    return f"{noun} {i} of {len(same)}" if step.section != "end" else "end"


def one_line(result: ScenarioResult) -> str:
    """The first failure in a line (a JUnit ``message`` attribute)."""
    if result.status == "error" and not result.failures:
        where = f" at {result.error_loc}" if result.error_loc else ""
        return f"error{where}: {result.error}"
    f = result.first_failure
    if f is None:
        return result.status
    extra = f"; {f.outcome.mismatches[0].describe()}" if f.outcome.mismatches else ""
    return f"{f.label} at {f.loc}: {f.outcome.message}{extra}"


def format_failure(result: ScenarioResult, *, transcript: bool = True, steps: bool = True) -> str:
    """Everything needed to understand a failed or errored scenario, as plain text."""
    out: list[str] = []
    if result.status == "error" and not result.failures:
        out.append(f"{result.error_loc or result.scenario.loc}: {result.error}")
        out.extend("  " + ln for ln in source_excerpt(result.error_loc or result.scenario.loc))
        return "\n".join(out)
    failures = result.failures
    first = failures[0] if failures else None
    for f in failures:
        if f is not first and f.section == "steps":
            continue
        out.append(f"{f.status.upper()}: {f.label} ({_step_index(result, f)}) at {f.loc}")
        for inc in f.via[::-1]:
            out.append(f"  included from {inc}")
        out.extend("  " + ln for ln in source_excerpt(f.loc))
        out.append(f"  {f.outcome.message}")
        for mm in f.outcome.mismatches[:20]:
            out.append(f"    {mm.describe()}")
        if len(f.outcome.mismatches) > 20:
            out.append(f"    ... and {len(f.outcome.mismatches) - 20} more")
        if f is first and f.outcome.expected is not None:
            diff = focused_diff(f.outcome.expected, f.outcome.actual)
            if diff:
                out.append("  diff (- expected, + actual):")
                out.extend("    " + ln for ln in diff[:60])
        out.append("")
    if steps:
        out.append("steps:")
        for s in result.steps:
            mark = {"passed": "ok", "failed": "FAIL", "error": "ERROR", "skipped": "--", "noted": "note"}[s.status]
            msg = s.outcome.message if s.status != "passed" else ""
            if len(msg) > 100:
                msg = msg[:97] + "..."
            where = f"line {s.loc.line}" if s.loc.file == result.scenario.file else f"{s.loc.file}:{s.loc.line}"
            out.append(f"  {mark:<5} {where:<9} {s.label}" + (f"  ({msg})" if msg else ""))
    if transcript and result.transcript is not None:
        lines = render_text(result.transcript).splitlines()
        out.append("")
        out.append("the call:")
        if len(lines) > _MAX_TRANSCRIPT_LINES:
            cut = len(lines) - _MAX_TRANSCRIPT_LINES
            lines = lines[:_MAX_TRANSCRIPT_LINES // 2] + [f"... {cut} lines ..."] + lines[-_MAX_TRANSCRIPT_LINES // 2:]
        out.extend("  " + ln for ln in lines)
    return "\n".join(out).rstrip()
