"""``--junit-xml FILE``: one ``<testcase>`` per scenario, one ``<testsuite>`` per file.

The shape is the one Jenkins, GitLab, GitHub Actions reporters, Azure and
CircleCI read: ``testsuites/testsuite/testcase`` with ``failure``/``error``/
``skipped`` children carrying a ``message`` attribute, the full report as the
element text, and the transcript in ``system-out``.
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from ..._render import render_text
from ..runner import ScenarioResult
from ..source import Problem
from .failure import format_failure, one_line

__all__ = ["junit_document", "junit_problems_document", "write_junit", "write_junit_problems"]

# XML 1.0 cannot carry most control characters, even escaped.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _BAD_XML.sub("\ufffd", text)


def _classname(file: str) -> str:
    """The file's path with ``/`` and without ``.pivot.yaml``: ``a.b/c/x.y.pivot.yaml`` is
    ``a.b/c/x.y``. Dots would make it ambiguous (``a.b.c.x.y``); the path matches the
    ``file::name[param]`` ids of ``pivotsim run`` and pytest."""
    base = file.replace(os.sep, "/")
    for suffix in (".pivot.yaml", ".pivot.yml", ".yaml", ".yml"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    while base.startswith("./"):
        base = base[2:]
    return re.sub(r"/+", "/", base) or "scenarios"


def junit_document(results: list[ScenarioResult], *, name: str = "pivotsim", seconds: float = 0.0) -> ET.Element:
    root = ET.Element("testsuites")
    by_file: dict[str, list[ScenarioResult]] = {}
    for r in results:
        by_file.setdefault(r.scenario.file, []).append(r)
    stamp = datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "")
    host = socket.gethostname()
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for file, rs in by_file.items():
        counts = {
            "tests": len(rs),
            "failures": sum(1 for r in rs if r.status == "failed"),
            "errors": sum(1 for r in rs if r.status == "error"),
            "skipped": sum(1 for r in rs if r.status == "skipped"),
        }
        for k, v in counts.items():
            totals[k] += v
        suite = ET.SubElement(root, "testsuite", {
            "name": _clean(file),
            **{k: str(v) for k, v in counts.items()},
            "time": f"{sum(r.seconds for r in rs):.3f}",
            "timestamp": stamp,
            "hostname": host,
        })
        for r in rs:
            s = r.scenario
            case = ET.SubElement(suite, "testcase", {
                "classname": _clean(_classname(file)),
                "name": _clean(s.test_name),
                "file": _clean(file),
                "line": str(s.loc.line),
                "time": f"{r.seconds:.3f}",
            })
            if r.status in ("failed", "error"):
                tag = "failure" if r.status == "failed" else "error"
                el = ET.SubElement(case, tag, {"message": _clean(one_line(r)),
                                               "type": "ScenarioFailure" if tag == "failure" else "ScenarioError"})
                el.text = _clean(format_failure(r, transcript=False))
                if r.transcript is not None:
                    out = ET.SubElement(case, "system-out")
                    out.text = _clean(render_text(r.transcript))
            elif r.status == "skipped":
                ET.SubElement(case, "skipped", {"message": _clean(r.error or "skipped")})
    root.attrib.update({"name": name, **{k: str(v) for k, v in totals.items()}, "time": f"{seconds:.3f}"})
    return root


def junit_problems_document(problems: list[Problem], *, name: str = "pivotsim") -> ET.Element:
    """Files that did not load: one ``<testcase>`` with an ``<error>`` per file, so CI finds a report."""
    by_file: dict[str, list[Problem]] = {}
    for p in problems:
        by_file.setdefault(p.where or "pivotsim", []).append(p)
    root = ET.Element("testsuites", {"name": name, "tests": str(len(by_file)), "failures": "0",
                                     "errors": str(len(by_file)), "skipped": "0", "time": "0.000"})
    for file, probs in by_file.items():
        suite = ET.SubElement(root, "testsuite", {"name": _clean(file), "tests": "1", "failures": "0",
                                                  "errors": "1", "skipped": "0", "time": "0.000"})
        case = ET.SubElement(suite, "testcase", {"classname": _clean(_classname(file)), "name": "load",
                                                 "file": _clean(file), "time": "0.000"})
        el = ET.SubElement(case, "error", {"message": _clean(str(probs[0])), "type": "ScenarioFileError"})
        el.text = _clean("\n".join(str(p) for p in probs))
    return root


def _write(path: str, root: ET.Element) -> None:
    ET.indent(root)
    tree = ET.ElementTree(root)
    with open(path, "wb") as fh:
        tree.write(fh, encoding="utf-8", xml_declaration=True)
        fh.write(b"\n")


def write_junit_problems(path: str, problems: list[Problem]) -> None:
    _write(path, junit_problems_document(problems))


def write_junit(path: str, results: list[ScenarioResult], *, seconds: float = 0.0) -> None:
    _write(path, junit_document(results, seconds=seconds))

