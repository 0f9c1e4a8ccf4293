"""pytest plugin (registered as ``pytest11: pivotsim``).

* Every ``*.pivot.yaml`` file is collected; each scenario (each parametrize
  row) is one test, with the id ``file::name[param]``. A failure prints the
  step, its source lines and the diff, not a traceback; a file that does not
  load reports every problem as ``file:line:col: message``.
* Fixtures: ``pivotsim`` places calls and checks them in order
  (:class:`pivotsim.scenario.testing.Pivotsim`); ``pivot_server`` serves canned
  Pivot replies through requests-mock, without a server
  (:class:`pivotsim.scenario.testing.PivotServer`); ``fake_kazoo`` is a fresh fake
  Crossbar API per test (:class:`pivotsim.crossbar.testing.FakeKazoo`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

_RUNNER = pytest.StashKey[Any]()


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("pivotsim", "pivotsim scenarios")
    group.addoption("--pivotsim-var", action="append", default=[], metavar="NAME=VALUE",
                    help="set a scenario variable (wins over the files; repeatable)")
    group.addoption("--pivotsim-target", default=None, metavar="TARGET",
                    help="play every scenario against this target instead")


def pytest_collect_file(file_path: Any, parent: Any) -> Any:
    if file_path.name.endswith((".pivot.yaml", ".pivot.yml")):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def _variables(config: Any) -> dict[str, str]:
    return dict(v.partition("=")[::2] for v in config.getoption("pivotsim_var") or [])


def _runner(config: Any) -> Any:
    if _RUNNER not in config.stash:
        from pivotsim.scenario.runner import Runner

        config.stash[_RUNNER] = Runner(variables=_variables(config), target=config.getoption("pivotsim_target"))
    return config.stash[_RUNNER]


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        from pivotsim.scenario.loader import load_file

        try:
            shown = str(self.path.relative_to(self.config.rootpath))
        except ValueError:
            shown = str(self.path)
        for scn in load_file(self.path, variables=_variables(self.config), display=shown):
            item = ScenarioItem.from_parent(self, name=scn.test_name, scenario=scn)
            if scn.skip:
                item.add_marker(pytest.mark.skip(reason=scn.skip))
            yield item

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        from pivotsim.scenario.source import SourceError

        if isinstance(excinfo.value, SourceError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioFailed(Exception):
    def __init__(self, result: Any) -> None:
        super().__init__(result.id)
        self.result = result


class _Crash:
    """What pytest's ``--junitxml`` (``message=``) and ``-r`` summary read: one line."""

    def __init__(self, path: str, lineno: int, message: str) -> None:
        self.path, self.lineno, self.message = path, lineno, message


class ScenarioRepr:
    """A failure as pytest shows it: the full report, with a one-line ``reprcrash``."""

    def __init__(self, text: str, headline: str, path: str, lineno: int) -> None:
        self.text = text
        self.reprcrash = _Crash(path, lineno, headline)

    def toterminal(self, tw: Any) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        for tag in scenario.tags:  # -k selects on tags too
            self.extra_keyword_matches.add(tag)

    def runtest(self) -> None:
        result = _runner(self.config).run(self.scenario)
        if result.status in ("failed", "error"):
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            from pivotsim.scenario.reporters import format_failure, one_line

            result = excinfo.value.result
            f = result.first_failure
            loc = f.loc if f is not None else (result.error_loc or result.scenario.loc)
            from pivotsim.scenario.reporters.text import escape_controls

            return ScenarioRepr(escape_controls(format_failure(result)), escape_controls(one_line(result)),
                                str(self.path), loc.line)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, self.scenario.loc.line - 1, self.scenario.test_name


@pytest.fixture
def pivotsim() -> Any:
    """Place calls and check them in order: ``pivotsim.call(target, press=[...]).expect_prompt(...)``."""
    from pivotsim.scenario.testing import Pivotsim

    return Pivotsim()


@pytest.fixture
def pivot_server() -> Iterator[Any]:
    """Canned Pivot replies without a server: ``pivot_server.reply("/", {...})``, then call ``.target``."""
    from pivotsim.scenario.testing import PivotServer

    with PivotServer() as server:
        yield server


@pytest.fixture
def fake_kazoo() -> Iterator[Any]:
    """A fresh fake Kazoo Crossbar per test (account ``pivotsim``, user ``john``/``12345``).

    ``connect`` runs the call before answering; ``fake_kazoo.advance(3601)`` expires tokens
    (docs/crossbar.md, "In tests").
    """
    from pivotsim.crossbar.testing import FakeKazoo

    fake = FakeKazoo()
    try:
        yield fake
    finally:
        fake.close()
