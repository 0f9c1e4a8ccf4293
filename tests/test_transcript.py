"""The transcript record matches its published schema, and the public API is curated."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from flask import Response
from pivot_apps import HANGUP, replies, tts

import pivotsim
from pivotsim._transcript import END_REASONS

SCHEMA = json.loads((Path(__file__).resolve().parents[1] / "schemas" / "transcript.schema.json").read_text())


def _check(t: pivotsim.Transcript) -> None:
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(json.dumps(t.to_dict())))


def test_transcripts_of_many_outcomes_match_the_schema(call) -> None:
    _check(call(replies(tts("hi", HANGUP)), caller=["1"]))
    _check(call(replies(Response("", status=500))))
    _check(call(replies({"module": "response", "data": {"code": "x"}})))
    _check(call(replies(Response("nope", content_type="application/json")), method="post", req_body_format="json"))
    _check(pivotsim.place_call("pivotsim.examples.bank:app", caller=["1234", "1"]))


def test_end_reasons_enum_matches_the_code() -> None:
    assert SCHEMA["$defs"]["end"]["properties"]["reason"]["enum"] == list(END_REASONS)


def test_exported_members() -> None:
    import types

    public = {
        name for name, value in vars(pivotsim).items()
        if name[0].isalpha() and not isinstance(value, types.ModuleType)
    }
    public -= {"annotations", "Any", "Iterable", "Sequence"}
    assert public == set(pivotsim.__all__)
    assert pivotsim.__all__ == sorted(pivotsim.__all__)
