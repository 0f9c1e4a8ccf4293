"""``--json FILE``: every scenario's result, steps and full transcript, for tools."""

from __future__ import annotations

import json
from typing import Any

from ..matchers import to_jsonable
from ..runner import ScenarioResult

__all__ = ["results_document", "write_json"]


def _loc(loc: Any) -> dict[str, Any] | None:
    return {"file": loc.file, "line": loc.line, "col": loc.col} if loc is not None else None


def scenario_document(r: ScenarioResult) -> dict[str, Any]:
    s = r.scenario
    return {
        "id": s.id,
        "name": s.name,
        "param": s.param_id,
        "params": to_jsonable(s.params),
        "file": s.file,
        "line": s.loc.line,
        "tags": list(s.tags),
        "status": r.status,
        "seconds": round(r.seconds, 6),
        "error": r.error,
        "error_at": _loc(r.error_loc),
        "steps": [
            {
                "section": st.section,
                "kind": st.kind,
                "label": st.label,
                "at": _loc(st.loc),
                "included_from": [_loc(v) for v in st.via],
                "status": st.status,
                "message": st.outcome.message,
                "mismatches": [mm.to_json() for mm in st.outcome.mismatches],
                "expected": to_jsonable(st.outcome.expected),
                "actual": to_jsonable(st.outcome.actual),
                "saved": to_jsonable(st.outcome.saved),
            }
            for st in r.steps
        ],
        "variables": to_jsonable(r.variables),
        "transcript": r.transcript.to_dict() if r.transcript is not None else None,
    }


def results_document(results: list[ScenarioResult], *, seconds: float = 0.0) -> dict[str, Any]:
    counts = {k: sum(1 for r in results if r.status == k) for k in ("passed", "failed", "error", "skipped")}
    return {
        "pivotsim_results": 1,
        "summary": {"scenarios": len(results), **counts, "seconds": round(seconds, 6)},
        "scenarios": [scenario_document(r) for r in results],
    }


def write_json(path: str, results: list[ScenarioResult], *, seconds: float = 0.0) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(results_document(results, seconds=seconds), fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
