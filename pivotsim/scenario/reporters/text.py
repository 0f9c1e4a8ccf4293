"""The report people read: a line per scenario, the steps of any that fail, a summary.

On a terminal a progress bar runs on stderr while scenarios play; it is erased
before anything else is printed, so logs and pipes never see it.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any, TextIO

from ..._render import printable
from ..model import Scenario
from ..runner import ScenarioResult
from .failure import format_failure

__all__ = ["TextReporter", "escape_controls"]

def escape_controls(text: str) -> str:
    """A report line or block, safe to print (newlines and tabs are layout)."""
    return printable(text, keep_newlines=True)


_MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
_COLOR = {"passed": "32", "failed": "31", "error": "31;1", "skipped": "33"}


class TextReporter:
    """``verbose``: 0 one line per scenario, 1 also every step; ``quiet`` only failures and the summary."""

    def __init__(self, out: TextIO | None = None, *, err: TextIO | None = None, verbose: int = 0,
                 quiet: bool = False, progress: bool | None = None, color: bool | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.verbose = verbose
        self.quiet = quiet
        tty_err = bool(getattr(self.err, "isatty", lambda: False)())
        self.progress = tty_err if progress is None else progress
        tty_out = bool(getattr(self.out, "isatty", lambda: False)())
        self.color = tty_out if color is None else color
        self.total = 0
        self.done = 0
        self._file: str | None = None
        self._bar_shown = False

    # -- progress bar --------------------------------------------------------------------
    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.err.write("\r\033[K")
            self.err.flush()
            self._bar_shown = False

    def _bar(self, label: str) -> None:
        if not self.progress or not self.total:
            return
        cols = shutil.get_terminal_size((80, 20)).columns
        width = max(10, min(30, cols // 4))
        filled = int(width * self.done / self.total)
        count = f"{self.done}/{self.total}"
        room = max(0, cols - width - len(count) - 6)
        label = escape_controls(label)
        label = label if len(label) <= room else label[: max(0, room - 3)] + "..."
        self.err.write(f"\r\033[K[{'#' * filled}{'.' * (width - filled)}] {count} {label}")
        self.err.flush()
        self._bar_shown = True

    # -- events -----------------------------------------------------------------------------
    def start(self, scenarios: list[Scenario]) -> None:
        self.total = len(scenarios)
        self.done = 0

    def scenario_started(self, scn: Scenario) -> None:
        self._bar(scn.test_name)

    def _paint(self, status: str, text: str) -> str:
        return f"\033[{_COLOR[status]}m{text}\033[0m" if self.color else text

    def _write(self, text: str, *, painted: str = "") -> None:
        """Print ``text`` with its control characters escaped; ``painted`` (our own colour codes) goes before it."""
        self._clear_bar()
        self.out.write(painted + escape_controls(text) + "\n")
        self.out.flush()

    def scenario_done(self, r: ScenarioResult) -> None:
        self.done += 1
        s = r.scenario
        bad = r.status in ("failed", "error")
        if not self.quiet or bad:
            if s.file != self._file:
                self._file = s.file
                self._write(s.file)
            mark = _MARK[r.status]
            self._write(f"{' ' * (5 - len(mark))} {s.test_name}{self._facts(r)}",
                        painted="  " + self._paint(r.status, mark))
            if self.verbose and not bad:
                for st in r.steps:
                    note = f"  ({st.outcome.message})" if st.status == "noted" else ""
                    self._write(f"        {st.status:<7} line {st.loc.line:<4} {st.label}{note}")
            if bad:
                body = format_failure(r, transcript=True, steps=True)
                self._write("\n".join("      " + ln if ln else "" for ln in body.splitlines()))
                self._write("")
        self._bar(s.test_name)

    @staticmethod
    def _facts(r: ScenarioResult) -> str:
        if r.status == "skipped":
            return f"  ({r.error})" if r.error else ""
        t = r.transcript
        if t is None or t.end is None:
            return ""
        return (f"  ({len(t.requests)} request{'s' if len(t.requests) != 1 else ''}, "
                f"{t.end.reason} at {t.end.t_ms / 1000:.1f} s, {r.seconds * 1000:.0f} ms)")

    def finish(self, results: list[ScenarioResult], seconds: float, extra: list[str] | None = None) -> None:
        self._clear_bar()
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        parts = [f"{counts[k]} {k}" for k in ("passed", "failed", "error", "skipped") if counts.get(k)]
        not_run = self.total - len(results)
        if not_run > 0:
            parts.append(f"{not_run} not run (--fail-fast)")
        status = "failed" if counts.get("failed") or counts.get("error") else "passed"
        bad = [r for r in results if r.status in ("failed", "error")]
        if bad:
            self.out.write("\nfailed:\n")
            for r in bad:
                f = r.first_failure
                where = f.loc if f else (r.error_loc or r.scenario.loc)
                self.out.write(escape_controls(f"  {r.id}  ({where})") + "\n")
        line = f"{len(results)} scenario{'s' if len(results) != 1 else ''}: {', '.join(parts) or 'none run'} " \
               f"in {seconds:.2f} s"
        self.out.write("\n" + self._paint(status, line) + "\n")
        for x in extra or []:
            self.out.write(escape_controls(x) + "\n")
        self.out.flush()

    def problems(self, lines: list[Any]) -> None:
        self._clear_bar()
        for p in lines:
            self.err.write(escape_controls(str(p)) + "\n")
        self.err.flush()
