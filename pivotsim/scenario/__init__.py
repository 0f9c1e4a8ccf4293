"""Scenario files: load ``*.pivot.yaml``, play them on the engine, check and report.

    from pivotsim.scenario import load_paths, Runner
    results = Runner().run_all(load_paths(["scenarios"]))

The format is documented in docs/scenarios.md and described by
``schemas/scenario.schema.json``. Names are imported on first use, so that
``pivotsim call`` does not pay for the scenario machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import find_files, load_file, load_paths, load_text
    from .matchers import Absent, AnyValue, Matcher, Range, Re, Type
    from .model import Scenario
    from .runner import Runner, ScenarioResult, StepResult, run_scenario, run_scenarios
    from .source import Loc, Problem, SourceError

_WHERE = {
    "find_files": "loader", "load_file": "loader", "load_paths": "loader", "load_text": "loader",
    "Absent": "matchers", "AnyValue": "matchers", "Matcher": "matchers", "Range": "matchers", "Re": "matchers",
    "Type": "matchers", "Scenario": "model", "Runner": "runner", "ScenarioResult": "runner",
    "StepResult": "runner", "run_scenario": "runner", "run_scenarios": "runner", "Loc": "source",
    "Problem": "source", "SourceError": "source",
}

__all__ = [
    "Absent",
    "AnyValue",
    "Loc",
    "Matcher",
    "Problem",
    "Range",
    "Re",
    "Runner",
    "Scenario",
    "ScenarioResult",
    "SourceError",
    "StepResult",
    "Type",
    "find_files",
    "load_file",
    "load_paths",
    "load_text",
    "run_scenario",
    "run_scenarios",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
