"""Scenario files: load ``*.pivot.yaml``, play them on the engine, check and report.

    from pivotsim.scenario import load_paths, Runner
    results = Runner().run_all(load_paths(["scenarios"]))

The format is documented in docs/scenarios.md and described by
``schemas/scenario.schema.json``.
"""

from __future__ import annotations

from .loader import find_files, load_file, load_paths, load_text
from .matchers import Absent, AnyValue, Matcher, Range, Re, Type
from .model import Scenario
from .runner import Runner, ScenarioResult, StepResult, run_scenario, run_scenarios
from .source import Loc, Problem, SourceError

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
