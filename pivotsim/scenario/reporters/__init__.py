"""Reports of a run: text for people (with a progress bar on a terminal), JSON and JUnit XML for tools."""

from __future__ import annotations

from .failure import format_failure, one_line
from .jsonfile import results_document, write_json
from .junit import junit_document, junit_problems_document, write_junit, write_junit_problems
from .text import TextReporter

__all__ = [
    "TextReporter",
    "format_failure",
    "junit_document",
    "junit_problems_document",
    "one_line",
    "results_document",
    "write_json",
    "write_junit",
    "write_junit_problems",
]
