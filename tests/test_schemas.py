"""The callflow schemas and the reply validator (contract §2.4, §7, §9 items 7-11).

The oracle tests at the end validate a corpus of good and bad nodes twice,
with pivotsim's own schemas and with Kazoo's schema files, and require the
same verdict, the same errors and the same injected defaults.  Kazoo's files
live outside the repository (../shared/kazoo-reference/schemas); those tests
skip when it is absent, as in a user's clone.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from pivotsim._blacklist import Blacklist
from pivotsim._schemas import (
    FlowValidator,
    NodeValidation,
    SchemaIssue,
    crossbar_errors,
    default_schema_dir,
)

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "schemas" / "callflow"
KAZOO_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "kazoo-reference" / "schemas"
needs_kazoo = pytest.mark.skipif(
    not KAZOO_DIR.is_dir(),
    reason=f"Kazoo reference schemas not found at {KAZOO_DIR} (only present in the project's CI checkout)",
)

FULL_SCHEMA_MODULES = sorted(
    [
        "pivot",
        "tts",
        "play",
        "collect_dtmf",
        "menu",
        "set_variables",
        "branch_variable",
        "hangup",
        "response",
        "sleep",
        "flush_dtmf",
        "language",
        "user",
        "device",
        "ring_group",
        "resources",
        "offnet",
        "voicemail",
        "conference",
        "transfer",
        "park",
        "callflow",
        "record_call",
        "record_caller",
        "set_variable",
        "set",
        "set_cid",
        "prepend_cid",
        "send_dtmf",
        "answer",
        "noop",
        "temporal_route",
        "webhook",
        "check_cid",
        "cidlistmatch",
        "audio_macro",
    ]
)
ALL_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"]


@pytest.fixture(scope="module")
def validator() -> FlowValidator:
    return FlowValidator()


@pytest.fixture(scope="module")
def strict() -> FlowValidator:
    return FlowValidator(strict_blacklist=True)


def keyed(result: NodeValidation) -> list[tuple[str, str]]:
    return [(issue.dotted, issue.keyword) for issue in result.errors]


def only_error(result: NodeValidation) -> SchemaIssue:
    assert len(result.errors) == 1, [i.message for i in result.errors]
    return result.errors[0]


# --------------------------------------------------------------------------- schema files


def test_default_schema_dir_holds_the_callflow_schemas() -> None:
    # <repo>/schemas in a checkout, pivotsim/schemas inside an installed wheel
    listing = default_schema_dir() / "callflow" / "_modules.json"
    assert listing.is_file()
    assert json.loads(listing.read_text()) == json.loads((SCHEMA_DIR / "_modules.json").read_text())


@pytest.mark.parametrize("module", FULL_SCHEMA_MODULES)
def test_module_schema_is_self_contained_draft4(module: str) -> None:
    path = SCHEMA_DIR / f"{module}.json"
    schema = json.loads(path.read_text())
    Draft4Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["type"] == "object"
    assert schema["description"]
    assert schema["properties"]["skip_module"] == {
        "type": "boolean",
        "description": schema["properties"]["skip_module"]["description"],
    }

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            if "$ref" in node:
                # our own files never rely on jesse's "$ref siblings still apply"
                assert set(node) <= {"$ref"}, f"{module}: $ref with siblings {sorted(node)}"
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    for ref in refs(schema):
        assert ref.startswith("#/definitions/"), f"{module}: non-local $ref {ref}"


def test_blacklisted_url_fields_carry_kazoo_validation() -> None:
    marked = set()
    for path in SCHEMA_DIR.glob("*.json"):
        if path.name == "_modules.json":
            continue
        for name, prop in json.loads(path.read_text())["properties"].items():
            if prop.get("kazoo-validation") is True:
                marked.add(f"{path.stem}.{name}")
    assert marked == {"pivot.voice_url", "record_call.url", "record_caller.url", "webhook.uri"}


def test_modules_listing() -> None:
    listing = json.loads((SCHEMA_DIR / "_modules.json").read_text())
    assert listing["description"]
    names = listing["modules"]
    assert names == sorted(set(names))
    assert len(names) == 78
    assert {"acdc_agent", "acdc_member", "acdc_queue", "acdc_wait_time"} <= set(names)
    assert "action" not in names and not [n for n in names if "." in n]
    assert set(FULL_SCHEMA_MODULES) <= set(names)
    on_disk = {p.stem for p in SCHEMA_DIR.glob("*.json")} - {"_modules"}
    assert on_disk == set(FULL_SCHEMA_MODULES)


@needs_kazoo
def test_modules_listing_matches_kazoo() -> None:
    kazoo = {p.name[len("callflows.") : -len(".json")] for p in KAZOO_DIR.glob("callflows.*.json")}
    kazoo = {n for n in kazoo if n != "action" and not n.startswith("audio_macro.")}
    assert set(json.loads((SCHEMA_DIR / "_modules.json").read_text())["modules"]) == kazoo
    assert FlowValidator(kazoo_schemas=KAZOO_DIR).known_modules == FlowValidator().known_modules


@needs_kazoo
def test_descriptions_are_our_own_words() -> None:
    def descriptions(node: Any) -> set[str]:
        if isinstance(node, dict):
            found = {node["description"]} if isinstance(node.get("description"), str) else set()
            return found.union(*(descriptions(v) for v in node.values()))
        if isinstance(node, list):
            return set().union(*(descriptions(v) for v in node))
        return set()

    theirs: set[str] = set()
    for path in KAZOO_DIR.glob("*.json"):
        theirs |= descriptions(json.loads(path.read_text()))
    ours: set[str] = set()
    for path in SCHEMA_DIR.glob("*.json"):
        ours |= descriptions(json.loads(path.read_text()))
    assert not (ours & theirs), sorted(ours & theirs)[:5]


# --------------------------------------------------------------------------- node shape (§2.4)


def test_valid_node_and_input_untouched(validator: FlowValidator) -> None:
    node = {"module": "tts", "data": {"text": "Welcome"}, "children": {}}
    before = copy.deepcopy(node)
    result = validator.validate_node(node)
    assert result.ok and result.errors == [] and result.warnings == []
    assert node == before  # the input is never modified
    assert result.node is not node
    assert result.node["data"]["voice"] == "female"


def test_non_object_reply(validator: FlowValidator) -> None:
    for reply in ([{"module": "tts"}], "tts", None, 3):
        result = validator.validate_node(reply)
        assert not result.ok and result.node is None
        issue = only_error(result)
        assert issue.path == () and issue.keyword == "type" and issue.dotted == ""
        assert "JSON object" in issue.message


def test_flow_wrapper_is_invalid_item7(validator: FlowValidator) -> None:
    reply = {"flow": {"module": "tts", "data": {"text": "hi"}}}
    result = validator.validate_node(reply)
    issue = only_error(result)
    assert (issue.dotted, issue.keyword, issue.value) == ("module", "required", "module")
    assert '"flow"' in issue.message and "wrapper" in issue.message


def test_empty_child_is_invalid_item8(validator: FlowValidator) -> None:
    result = validator.validate_node({"module": "answer", "children": {"_": {}}})
    issue = only_error(result)
    assert issue.path == ("children", "_", "module") and issue.keyword == "required"
    assert '"children": {}' in issue.message
    assert validator.validate_node({"module": "answer", "children": {}}).ok
    assert validator.validate_node({"module": "answer"}).ok


def test_children_must_be_an_object_of_nodes(validator: FlowValidator) -> None:
    result = validator.validate_node({"module": "answer", "children": [{"module": "hangup"}]})
    assert keyed(result) == [("children", "type")]
    result = validator.validate_node({"module": "answer", "children": {"_": "hangup", "": 5}})
    assert keyed(result) == [("children._", "type")]  # an empty key is not a branch


def test_data_defaults_to_an_object(validator: FlowValidator) -> None:
    result = validator.validate_node({"module": "hangup"})
    assert result.ok and result.node == {"module": "hangup", "data": {}}
    result = validator.validate_node({"module": "hangup", "data": ["x"]})
    assert keyed(result) == [("data", "type")]
    assert "data must be an object" in result.errors[0].message


def test_module_field_rules(validator: FlowValidator) -> None:
    assert keyed(validator.validate_node({"module": 5})) == [("module", "type")]
    assert keyed(validator.validate_node({"module": ""})) == [
        ("module", "minLength"),
        ("module", "module"),
    ]
    assert keyed(validator.validate_node({"module": "x" * 65})) == [
        ("module", "maxLength"),
        ("module", "module"),
    ]


def test_unknown_module(validator: FlowValidator) -> None:
    issue = only_error(validator.validate_node({"module": "speak", "data": {"text": "hi"}}))
    assert (issue.dotted, issue.keyword, issue.value) == ("module", "module", "speak")
    assert "unable to find callflow schema for module speak" in issue.message
    assert not validator.is_known_module("speak")


def test_say_does_not_exist(validator: FlowValidator) -> None:
    issue = only_error(validator.validate_node({"module": "say", "data": {"text": "hello"}}))
    assert issue.keyword == "module"
    assert 'no "say" module' in issue.message and '"tts"' in issue.message
    assert not validator.is_known_module("say")


def test_known_modules_without_full_schema_accept_any_object(validator: FlowValidator) -> None:
    for module in ("acdc_member", "acdc_queue", "manual_presence", "wait_for_hangup", "skel"):
        assert validator.is_known_module(module)
        assert validator.module_schema(module) is None
        result = validator.validate_node({"module": module, "data": {"anything": [1, {"x": None}]}})
        assert result.ok, result.errors
        assert keyed(validator.validate_node({"module": module, "data": "x"})) == [("data", "type")]
    for module in FULL_SCHEMA_MODULES:
        assert validator.is_known_module(module)
        assert validator.module_schema(module) is not None


def test_extra_keys_are_allowed(validator: FlowValidator) -> None:
    node = {
        "module": "pivot",
        "data": {"voice_url": "https://x.example/a", "req_timeout": "5"},  # ignored by Kazoo
        "id": "n1",
    }
    result = validator.validate_node(node)
    assert result.ok and result.node["id"] == "n1" and result.node["data"]["req_timeout"] == "5"


# --------------------------------------------------------------------------- strict types (§9 item 9)


def test_response_code_string_rejected(validator: FlowValidator) -> None:
    issue = only_error(validator.validate_node({"module": "response", "data": {"code": "486"}}))
    assert issue.path == ("data", "code") and issue.keyword == "type" and issue.value == "486"
    assert issue.message.startswith('data.code must be an integer; Kazoo\'s schema rejects "486"')
    assert validator.validate_node({"module": "response", "data": {"code": 486}}).ok


@pytest.mark.parametrize("bad", ["20", 20.0, True, None, [20]])
def test_user_timeout_must_be_integer(validator: FlowValidator, bad: Any) -> None:
    issue = only_error(
        validator.validate_node({"module": "user", "data": {"id": "u", "timeout": bad}})
    )
    assert (issue.dotted, issue.keyword) == ("data.timeout", "type")


def test_ring_group_endpoints_are_objects(validator: FlowValidator) -> None:
    bare = {"module": "ring_group", "data": {"endpoints": ["dev1", "dev2"]}}
    result = validator.validate_node(bare)
    assert keyed(result) == [("data.endpoints.0", "type"), ("data.endpoints.1", "type")]
    assert "not bare ids" in result.errors[0].message
    good = {
        "module": "ring_group",
        "data": {"endpoints": [{"id": "dev1", "endpoint_type": "device"}]},
    }
    result = validator.validate_node(good)
    assert result.ok
    assert result.node["data"]["endpoints"] == [
        {"id": "dev1", "endpoint_type": "device", "delay": 0, "timeout": 20}
    ]
    missing = validator.validate_node(
        {"module": "ring_group", "data": {"endpoints": [{"id": "d"}]}}
    )
    assert keyed(missing) == [("data.endpoints.0.endpoint_type", "required")]
    assert keyed(validator.validate_node({"module": "ring_group", "data": {"endpoints": []}})) == [
        ("data.endpoints", "minItems")
    ]


def test_tts_text_limits(validator: FlowValidator) -> None:
    assert validator.validate_node({"module": "tts", "data": {"text": "x" * 1000}}).ok
    issue = only_error(validator.validate_node({"module": "tts", "data": {"text": "x" * 1001}}))
    assert (issue.dotted, issue.keyword, issue.target) == ("data.text", "maxLength", 1000)
    assert "1001 characters" in issue.message and "at most 1000" in issue.message
    assert keyed(validator.validate_node({"module": "tts", "data": {"text": ""}})) == [
        ("data.text", "minLength")
    ]
    assert keyed(validator.validate_node({"module": "tts", "data": {}})) == [
        ("data.text", "required")
    ]


def test_tts_engine_enum(validator: FlowValidator) -> None:
    issue = only_error(
        validator.validate_node({"module": "tts", "data": {"text": "a", "engine": "polly"}})
    )
    assert (issue.dotted, issue.keyword) == ("data.engine", "enum")
    assert issue.target == ["flite", "google", "ispeech", "voicefabric"]
    assert '"polly"' in issue.message and '"flite"' in issue.message
    for engine in ("flite", "google", "ispeech", "voicefabric"):
        assert validator.validate_node(
            {"module": "tts", "data": {"text": "a", "engine": engine}}
        ).ok


def test_jesse_type_strictness(validator: FlowValidator) -> None:
    # booleans are not integers, 1.0 is not an integer, 1 is not in an enum of strings
    assert keyed(validator.validate_node({"module": "sleep", "data": {"duration": True}})) == [
        ("data.duration", "type")
    ]
    assert keyed(validator.validate_node({"module": "sleep", "data": {"duration": 1.0}})) == [
        ("data.duration", "type")
    ]
    assert keyed(
        validator.validate_node(
            {"module": "pivot", "data": {"voice_url": "https://a.b", "debug": 0}}
        )
    ) == [("data.debug", "type")]
    result = validator.validate_node({"module": "collect_dtmf", "data": {"terminator": 1}})
    assert keyed(result) == [("data.terminator", "enum"), ("data.terminator", "type")]


# --------------------------------------------------------------------------- defaults (§9 item 10)


def test_collect_dtmf_defaults(validator: FlowValidator) -> None:
    result = validator.validate_node({"module": "collect_dtmf", "data": {"terminators": ["*"]}})
    assert result.ok
    data = result.node["data"]
    assert data["terminator"] == "#"  # shadows the server's terminators
    assert data["terminators"] == ["*"]
    assert data["max_digits"] == 1 and data["timeout"] == 5000
    assert "interdigit_timeout" not in data and "collection_name" not in data


def test_nested_pivot_defaults(validator: FlowValidator) -> None:
    reply = {
        "module": "tts",
        "data": {"text": "one moment"},
        "children": {"_": {"module": "pivot", "data": {"voice_url": "https://ivr.example/next"}}},
    }
    result = validator.validate_node(reply)
    assert result.ok
    assert result.node["children"]["_"]["data"] == {
        "voice_url": "https://ivr.example/next",
        "method": "get",
        "req_format": "kazoo",
        "req_body_format": "form",
        "debug": False,
    }
    assert result.node["data"] == {"text": "one moment", "voice": "female", "terminators": ALL_KEYS}


@pytest.mark.parametrize(
    ("module", "data", "expected"),
    [
        ("sleep", {}, {"duration": 0, "unit": "s"}),
        ("response", {}, {"code": 486}),
        ("user", {"id": "u"}, {"id": "u", "timeout": 20, "delay": 0, "strategy": "simultaneous"}),
        (
            "device",
            {"id": "d"},
            {"id": "d", "timeout": 0, "delay": 0, "dial_strategy": "simultaneous"},
        ),
        ("set_variables", {}, {"custom_application_vars": {}}),
        ("branch_variable", {}, {"variable": "", "scope": "custom_channel_vars"}),
        ("flush_dtmf", {}, {"collection_name": "default"}),
        ("play", {"id": "m"}, {"id": "m", "endless_playback": False, "terminators": ALL_KEYS}),
        ("send_dtmf", {"digits": "1"}, {"digits": "1"}),  # "2000" has no type: never injected
        (
            "record_call",
            {},
            {
                "action": "start",
                "method": "put",
                "time_limit": 3600,
                "record_on_answer": False,
                "record_on_bridge": False,
                "should_follow_transfer": True,
            },
        ),
    ],
)
def test_injected_defaults(
    validator: FlowValidator, module: str, data: dict[str, Any], expected: dict[str, Any]
) -> None:
    result = validator.validate_node({"module": module, "data": data})
    assert result.ok, [i.message for i in result.errors]
    assert result.node["data"] == expected
    assert type(result.node["data"].get("code", 0)) is int


def test_nested_object_defaults_apply(validator: FlowValidator) -> None:
    result = validator.validate_node({"module": "conference", "data": {"config": {"name": "room"}}})
    assert result.ok
    config = result.node["data"]["config"]
    assert config["member"] == {"join_muted": True, "join_deaf": False, "numbers": [], "pins": []}
    assert config["moderator"] == {
        "join_muted": False,
        "join_deaf": False,
        "numbers": [],
        "pins": [],
    }
    assert config["conference_numbers"] == [] and config["play_name"] is False


def test_invalid_default_is_reported(validator: FlowValidator) -> None:
    # audio_macro.macros defaults to [] and must have at least one item
    result = validator.validate_node({"module": "audio_macro"})
    assert keyed(result) == [("data.macros", "minItems")]
    result = validator.validate_node(
        {
            "module": "audio_macro",
            "data": {"macros": [{"macro": "tts", "text": "hi"}, {"macro": "play", "id": "m"}]},
        }
    )
    assert result.ok
    tts, play = result.node["data"]["macros"]
    assert tts == {"macro": "tts", "text": "hi", "voice": "female", "terminators": ALL_KEYS}
    assert play == {"macro": "play", "id": "m", "endless_playback": False, "terminators": ALL_KEYS}
    bad = validator.validate_node({"module": "audio_macro", "data": {"macros": [{"macro": "tts"}]}})
    assert keyed(bad) == [("data.macros.0", "oneOf")]


# --------------------------------------------------------------------------- blacklist (§9 item 11)


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "0.0.0.0", "LOCALHOST:8080", "127.0.0.1:5000"]
)
def test_nested_pivot_blacklisted_url(
    validator: FlowValidator, strict: FlowValidator, host: str
) -> None:
    url = f"http://{host}/next"
    reply = {
        "module": "tts",
        "data": {"text": "hi"},
        "children": {"_": {"module": "pivot", "data": {"voice_url": url}}},
    }
    hard = strict.validate_node(reply)
    issue = only_error(hard)
    assert issue.path == ("children", "_", "data", "voice_url")
    assert issue.keyword == "kazoo-validation" and issue.value == url
    assert "invalid client URL" in issue.message
    assert hard.warnings == []

    soft = validator.validate_node(reply)
    assert soft.ok and soft.errors == []
    assert [(w.dotted, w.keyword) for w in soft.warnings] == [
        ("children._.data.voice_url", "kazoo-validation")
    ]
    assert (
        "invalid client URL" in soft.warnings[0].message and "warning" in soft.warnings[0].message
    )
    assert soft.node is not None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.2/next", "http://10.0.0.5:8080/next", "http://localhost./x"]
)
def test_nested_pivot_allowed_urls(strict: FlowValidator, url: str) -> None:
    result = strict.validate_node({"module": "pivot", "data": {"voice_url": url}})
    assert result.ok and result.warnings == []


def test_other_blacklisted_fields(strict: FlowValidator) -> None:
    cases = [
        ("record_call", {"url": "http://localhost/rec"}, "data.url"),
        ("record_caller", {"url": "http://127.0.0.1/rec"}, "data.url"),
        ("webhook", {"uri": "ftp://hooks.example/x"}, "data.uri"),
    ]
    for module, data, where in cases:
        assert keyed(strict.validate_node({"module": module, "data": data})) == [
            (where, "kazoo-validation")
        ]
    # the pattern and the blacklist are separate checks: both report
    result = strict.validate_node({"module": "pivot", "data": {"voice_url": "ftp://x.example/"}})
    assert keyed(result) == [("data.voice_url", "pattern"), ("data.voice_url", "kazoo-validation")]
    # cdr_url has the pattern only
    assert strict.validate_node(
        {
            "module": "pivot",
            "data": {"voice_url": "https://a.example", "cdr_url": "http://localhost/cdr"},
        }
    ).ok


def test_custom_blacklist() -> None:
    v = FlowValidator(blacklist=Blacklist(cidrs=("10.0.0.0/8",), hosts=()), strict_blacklist=True)
    assert not v.validate_node({"module": "pivot", "data": {"voice_url": "http://10.9.9.9/"}}).ok
    assert v.validate_node({"module": "pivot", "data": {"voice_url": "http://localhost/"}}).ok


# --------------------------------------------------------------------------- all errors at once


def test_every_error_is_reported_with_its_path(strict: FlowValidator) -> None:
    reply = {
        "module": "tts",
        "data": {"text": "", "engine": "polly", "voice": 5},
        "children": {
            "_": {
                "module": "collect_dtmf",
                "data": {"max_digits": 0, "timeout": "5000"},
                "children": {
                    "_": {"module": "response", "data": {"code": "486"}},
                    "1": {"module": "say"},
                    "2": {"module": "pivot", "data": {"voice_url": "http://localhost/x"}},
                },
            },
            "timeout": {},
        },
    }
    result = strict.validate_node(reply)
    assert sorted(keyed(result)) == sorted(
        [
            ("data.engine", "enum"),
            ("data.text", "minLength"),
            ("data.voice", "type"),
            ("children._.data.max_digits", "minimum"),
            ("children._.data.timeout", "type"),
            ("children._.children._.data.code", "type"),
            ("children._.children.1.module", "module"),
            ("children._.children.2.data.voice_url", "kazoo-validation"),
            ("children.timeout.module", "required"),
        ]
    )
    for issue in result.errors:
        assert issue.dotted in issue.message or issue.keyword == "module"
    assert result.node["children"]["_"]["data"]["terminator"] == "#"


def test_validate_data(validator: FlowValidator) -> None:
    result = validator.validate_data("response", {"code": "486"})
    assert keyed(result) == [("data.code", "type")]
    result = validator.validate_data("sleep", {})
    assert result.ok and result.node == {"module": "sleep", "data": {"duration": 0, "unit": "s"}}
    assert keyed(validator.validate_data("say", {})) == [("module", "module")]


# --------------------------------------------------------------------------- Crossbar error shape


def test_crossbar_errors_shape(strict: FlowValidator) -> None:
    result = strict.validate_node(
        {
            "module": "response",
            "data": {"code": "486"},
            "children": {"_": {"module": "pivot", "data": {"voice_url": "http://localhost/x"}}},
        }
    )
    errors = crossbar_errors(result.errors, prefix="flow")
    assert errors == {
        "flow.data.code": {
            "type": {
                "message": "Value did not match type(s): integer",
                "target": "integer",
                "value": "486",
            }
        },
        "flow.children._.data.voice_url": {
            "error": {"message": "invalid client URL", "value": "http://localhost/x"}
        },
    }
    unknown = crossbar_errors(strict.validate_node({"module": "say"}).errors)
    assert unknown == {
        "module": {
            "error": {"message": "unable to find callflow schema for module say", "value": "say"}
        }
    }
    missing = crossbar_errors(strict.validate_node({"module": "tts"}).errors, "flow")
    assert missing == {
        "flow.data.text": {
            "required": {"message": "Field is required but missing", "value": "text"}
        }
    }


def test_crossbar_errors_last_wins_and_escapes_dots() -> None:
    issues = [
        SchemaIssue(("data", "engine"), "type", "m", 5, "string"),
        SchemaIssue(("data", "engine"), "enum", "m", 5, ["flite"]),
        SchemaIssue(("children", "a.b", "module"), "required", "m", "module"),
    ]
    out = crossbar_errors(issues)
    assert list(out) == ["data.engine", "children.a%2Eb.module"]
    assert list(out["data.engine"]) == ["enum"]
    assert out["data.engine"]["enum"]["target"] == ["flite"]
    assert SchemaIssue(("a", "b"), "type", "m", 1) == SchemaIssue(("a", "b"), "type", "m", 1, "x")


# --------------------------------------------------------------------------- speed


def test_validation_is_fast(validator: FlowValidator) -> None:
    node = {
        "module": "tts",
        "data": {"text": "Press 1"},
        "children": {"_": {"module": "collect_dtmf", "data": {"max_digits": 1}}},
    }
    validator.validate_node(node)
    rounds = 2000
    started = time.perf_counter()
    for _ in range(rounds):
        validator.validate_node(node)
    per_call = (time.perf_counter() - started) / rounds
    assert per_call < 0.001, f"{per_call * 1e6:.0f} us per node"


# --------------------------------------------------------------------------- oracle


GOOD: dict[str, list[dict[str, Any]]] = {
    "pivot": [
        {"voice_url": "https://example.com/ivr"},
        {
            "voice_url": "http://pivot.example/ivr.php?x=1",
            "method": "POST",
            "req_format": "twiml",
            "req_body_format": "json",
            "req_timeout_ms": 3000,
            "cdr_url": "https://example.com/cdr",
            "debug": True,
            "skip_module": False,
        },
    ],
    "tts": [
        {"text": "Hello"},
        {
            "text": "Bonjour",
            "voice": "male",
            "language": "fr-fr",
            "engine": "google",
            "terminators": [],
            "endless_playback": True,
        },
    ],
    "play": [{}, {"id": "media-1", "answer": False, "loop_count": 2, "terminators": ["#"]}],
    "collect_dtmf": [
        {},
        {
            "max_digits": 4,
            "timeout": 3000,
            "interdigit_timeout": 1500,
            "terminators": ["#", "*"],
            "collection_name": "pin",
        },
    ],
    "menu": [{}, {"id": "menu1", "interdigit_timeout": 2000}],
    "set_variables": [{}, {"custom_application_vars": {"a": "b", "n": 1}, "export": True}],
    "branch_variable": [{}, {"variable": "x", "scope": "account"}],
    "hangup": [{}],
    "response": [{}, {"code": 404, "message": "Not Found", "media": "m"}],
    "sleep": [{}, {"duration": 500, "unit": "ms"}],
    "flush_dtmf": [{}, {"collection_name": "pin"}],
    "language": [{"language": "fr-ca"}, {"language": "EN"}],
    "user": [
        {"id": "u1"},
        {
            "id": "u1",
            "timeout": 30,
            "strategy": "single",
            "delay": 2,
            "can_call_self": True,
            "custom_sip_headers": {"X-A": "b"},
            "fail_on_single_reject": True,
        },
    ],
    "device": [
        {"id": "d1"},
        {
            "id": "d1",
            "timeout": 25,
            "dial_strategy": "single",
            "static_invite": "sip:x@y",
            "suppress_clid": True,
        },
    ],
    "ring_group": [
        {"endpoints": [{"id": "u1", "endpoint_type": "user"}]},
        {
            "endpoints": [
                {"id": "u1", "endpoint_type": "user", "weight": 50, "delay": 1, "timeout": 10},
                {"id": "g", "endpoint_type": "group"},
            ],
            "strategy": "weighted_random",
            "ringtones": {"internal": "a", "external": "b"},
            "repeats": 2,
            "ignore_forward": False,
        },
    ],
    "resources": [
        {},
        {
            "to_did": "+14155550100",
            "custom_sip_headers": {"X-Foo": "bar"},
            "outbound_flags": ["f"],
            "timeout": 30,
            "dynamic_flags": ["zone"],
        },
    ],
    "offnet": [
        {},
        {
            "custom_sip_headers": {"in": {"X-A": "1"}, "out": {"X-B": "2"}},
            "use_local_resources": False,
        },
    ],
    "voicemail": [{}, {"id": "a" * 32, "action": "check", "max_message_length": 120}],
    "conference": [
        {},
        {
            "config": {
                "name": "room",
                "profile": {"rate": 16000, "interval": 20},
                "member": {"pins": ["1234"]},
            },
            "welcome_prompt": {"media_id": "m"},
            "play_entry_tone": "tone",
            "play_exit_tone": False,
        },
        {"id": "b" * 32, "moderator": True, "welcome_prompt": {}},
    ],
    "transfer": [
        {},
        {"target": "1000", "transfer_type": "attended", "leg": "bleg", "captures": ["1"]},
    ],
    "park": [
        {},
        {"action": "retrieve", "slot": "1", "default_presence_type": "early", "slots": {"1": {}}},
    ],
    "callflow": [{}, {"id": "cf1"}],
    "record_call": [
        {},
        {"action": "stop"},
        {"action": "start", "url": "https://rec.example.com/up", "format": "wav", "time_limit": 60},
    ],
    "record_caller": [
        {},
        {"url": "https://rec.example.com/up", "method": "post", "time_limit": 5, "format": "mp3"},
    ],
    "set_variable": [{}, {"variable": "call_priority", "value": "1", "channel": "both"}],
    "set": [{}, {"skills": ["a"]}],
    "set_cid": [{}, {"caller_id_name": "Acme", "caller_id_number": "+1415"}],
    "prepend_cid": [
        {},
        {"caller_id_name_prefix": "VIP ", "action": "reset", "apply_to": "original"},
    ],
    "send_dtmf": [
        {"digits": "123A"},
        {"digits": "1", "duration_ms": 500},
        {"digits": "1", "duration_ms": "300"},
    ],
    "answer": [{}],
    "noop": [{}],
    "temporal_route": [
        {},
        {"rules": ["r1"], "timezone": "America/New_York", "action": "menu", "rule_set": "s"},
    ],
    "webhook": [
        {},
        {
            "uri": "https://hooks.example.com/x",
            "http_verb": "get",
            "retries": 2,
            "custom_data": {"a": 1},
        },
    ],
    "check_cid": [
        {},
        {
            "regex": "^\\+1",
            "use_absolute_mode": True,
            "caller_id": {"external": {"name": "n", "number": "1"}},
            "user_id": "u",
        },
    ],
    "cidlistmatch": [{}, {"id": "list1"}],
    "audio_macro": [
        {"macros": [{"macro": "play", "id": "m"}]},
        {
            "macros": [
                {"macro": "play", "id": "m", "loop_count": 2},
                {"macro": "tone", "frequencies": [440, 480], "duration_on": 100, "volume": 50},
                {"macro": "prompt", "id": "vm-goodbye", "language": "en"},
                {
                    "macro": "say",
                    "text": "123",
                    "type": "number",
                    "method": "pronounced",
                    "gender": "neuter",
                },
                {"macro": "tts", "text": "hi", "engine": "flite"},
            ],
            "language": "en",
            "terminators": ["*"],
        },
    ],
}

BAD: dict[str, list[dict[str, Any]]] = {
    "pivot": [
        {},
        {"voice_url": "ftp://x.example/"},
        {"voice_url": "http://localhost/x"},
        {"voice_url": "http://127.0.0.1:8080/x"},
        {"voice_url": "http://0.0.0.0/"},
        {"voice_url": "HTTP://example.com/"},
        {"voice_url": "https://user:pw@localhost/x"},
        {"voice_url": "https://a.example", "req_timeout_ms": 5001},
        {"voice_url": "https://a.example", "method": "Post"},
        {"voice_url": "https://a.example", "cdr_url": "mailto:x"},
    ],
    "tts": [
        {"text": "x" * 1001},
        {"text": ""},
        {"text": "a", "terminators": "#"},
        {"text": "a", "terminators": [1]},
    ],
    "collect_dtmf": [
        {"terminators": ["#", "#"]},
        {"terminators": ["x"]},
        {"terminator": "A"},
        {"terminator": "##"},
        {"max_digits": 0},
        {"timeout": 0},
        {"interdigit_timeout": -5},
    ],
    "ring_group": [
        {},
        {"endpoints": []},
        {"endpoints": ["abc"]},
        {"endpoints": [{"id": "", "endpoint_type": "user"}]},
        {"endpoints": [{"id": "x" * 129, "endpoint_type": "user"}]},
        {"endpoints": [{"id": "x"}]},
        {"endpoints": [{"id": "x", "endpoint_type": "phone"}]},
        {"endpoints": [{"id": "x", "endpoint_type": "user", "weight": 0}]},
        {"endpoints": [{"id": "x", "endpoint_type": "user", "weight": 101}]},
        {
            "endpoints": [{"id": "x", "endpoint_type": "user"}],
            "repeats": 0,
            "ringtones": {"internal": 1},
        },
    ],
    "audio_macro": [
        {},
        {"macros": []},
        {"macros": [{"macro": "tts"}]},
        {"macros": [{"macro": "beep"}]},
        {"macros": [{}]},
        {"macros": ["play"]},
        {"macros": [{"macro": "tone", "volume": 101}]},
        {"macros": [{"macro": "say", "type": "bogus"}]},
        {"macros": [{"macro": "play", "loop_count": 0}]},
        {"macros": [{"macro": "tts", "text": "x" * 1001}]},
    ],
    "conference": [
        {"config": "x"},
        {"config": {"profile": {"rate": 1000}}},
        {"config": {"profile": {"interval": 5, "energy-level": 2000, "max-members": 1}}},
        {"config": {"member": {"numbers": ["1", "1"]}}},
        {"config": {"member": {"pins": ["12a"]}, "moderator": {"join_muted": "no"}}},
        {"config": {"owner_id": "short", "name": ""}},
        {"config": {"conference_numbers": ["1", "1"]}},
        {"welcome_prompt": {"play": "yes"}},
        {"welcome_prompt": "x"},
        {"play_entry_tone": 5},
        {"id": "short"},
    ],
    "resources": [
        {"custom_sip_headers": {"in": {"X-A": 1}}},
        {"custom_sip_headers": {"out": {"X-B": ["2"]}}},
        {"custom_sip_headers": "str"},
    ],
    "offnet": [{"custom_sip_headers": {"out": {"X-B": 2}}}, {"outbound_flags": "f"}],
    "check_cid": [
        {"caller_id": {"external": "x"}},
        {"caller_id": {"external": {"name": 5}}},
        {"caller_id": []},
    ],
    "send_dtmf": [
        {},
        {"digits": "1", "duration_ms": 1.5},
        {"digits": "1", "duration_ms": None},
        {"digits": 1},
    ],
    "language": [{}, {"language": "english"}, {"language": "en_us"}, {"language": "en-usa"}],
    "sleep": [{"duration": -1}, {"duration": 86400001}, {"unit": "d"}],
    "response": [{"code": 486.0}, {"code": True}, {"code": "486"}, {"media": "m" * 2049}],
    "record_call": [
        {"url": "http://localhost/rec"},
        {"action": "pause"},
        {"time_limit": 4},
        {"time_limit": 10801},
        {"format": "ogg"},
        {"method": "get"},
    ],
    "record_caller": [{"url": "http://127.0.0.1/rec"}, {"url": "ftp://x"}, {"time_limit": 0}],
    "webhook": [
        {"uri": "http://localhost/"},
        {"uri": "ftp://x"},
        {"http_verb": "put"},
        {"retries": "2"},
    ],
    "voicemail": [{"id": "a" * 31}, {"id": "a" * 33}, {"action": "delete"}],
    "user": [{"timeout": "20"}, {"strategy": "random"}, {"delay": 1.5}],
    "device": [{"timeout": "20"}, {"dial_strategy": "weighted_random"}],
    "park": [{"action": "hold"}, {"slots": []}, {"default_presence_type": "busy"}],
    "prepend_cid": [{"action": "append"}, {"apply_to": "both"}],
    "set_variable": [{"channel": "b"}, {"value": 1}],
    "transfer": [{"transfer_type": "warm"}, {"leg": "aleg"}, {"captures": "x"}],
    "temporal_route": [{"action": "skip"}, {"rules": "r1"}],
    "branch_variable": [{"variable": ["a", "b"]}, {"scope": "cav"}],
    "set_variables": [{"custom_application_vars": []}],
    "play": [{"loop_count": 0}, {"endless_playback": "yes"}],
    "menu": [{"interdigit_timeout": "2000"}],
}

PALETTE: list[Any] = [
    "x",
    "",
    "https://example.com/x",
    "http://localhost/x",
    0,
    1,
    -1,
    5001,
    1.5,
    True,
    False,
    None,
    [],
    ["x"],
    [1],
    {},
    {"x": "y"},
    "#",
    "x" * 32,
]


def corpus() -> list[tuple[str, dict[str, Any]]]:
    """Good samples, bad samples, and every property of every module set to odd values."""
    own = FlowValidator()
    samples: list[tuple[str, dict[str, Any]]] = []
    for module in FULL_SCHEMA_MODULES:
        goods = GOOD[module]
        for data in goods + BAD.get(module, []):
            samples.append((module, {"module": module, "data": data}))
        samples.append((module, {"module": module}))
        schema = own.module_schema(module)
        assert schema is not None
        for name in sorted(schema["properties"]):
            for value in PALETTE:
                data = copy.deepcopy(goods[-1])
                data[name] = copy.deepcopy(value)
                samples.append((module, {"module": module, "data": data}))
    # whole flows: nesting, children errors, unknown and wrapped nodes
    samples += [
        (
            "flow",
            {
                "module": "tts",
                "data": {"text": "a"},
                "children": {
                    "_": {
                        "module": "collect_dtmf",
                        "children": {
                            "_": {"module": "pivot", "data": {"voice_url": "http://localhost/n"}}
                        },
                    }
                },
            },
        ),
        (
            "flow",
            {
                "module": "menu",
                "children": {"1": {"module": "say"}, "2": {}, "timeout": {"module": "hangup"}},
            },
        ),
        ("flow", {"flow": {"module": "tts", "data": {"text": "a"}}}),
        ("flow", {"module": "acdc_member", "data": {"queue_id": 5}}),
        (
            "flow",
            {
                "module": "response",
                "data": {"code": "486"},
                "children": {"_": {"module": "sleep", "data": {"unit": "d"}}},
            },
        ),
    ]
    return samples


def summary(
    result: NodeValidation,
) -> tuple[bool, Any, list[tuple[str, str]], list[tuple[str, str]]]:
    """Verdict, defaulted node, and the distinct (path, keyword) errors and warnings.

    Distinct, because Kazoo's files sometimes state a rule twice (conference.config
    has "type": "object" both beside its $ref and inside conferences.json), and
    jesse then reports the same (path, keyword) twice; Crossbar keeps one per path.
    """
    return (
        result.ok,
        result.node,
        sorted(set(keyed(result))),
        sorted({(w.dotted, w.keyword) for w in result.warnings}),
    )


@needs_kazoo
@pytest.mark.parametrize("strict_blacklist", [False, True])
def test_oracle_agrees_with_kazoo_schemas(strict_blacklist: bool) -> None:
    ours = FlowValidator(strict_blacklist=strict_blacklist)
    kazoo = FlowValidator(kazoo_schemas=KAZOO_DIR, strict_blacklist=strict_blacklist)
    samples = corpus()
    assert len(samples) > 2000
    verdicts = {True: 0, False: 0}
    mismatches = []
    for label, node in samples:
        mine, theirs = ours.validate_node(node), kazoo.validate_node(node)
        verdicts[mine.ok] += 1
        if summary(mine) != summary(theirs):
            mismatches.append((label, node, summary(mine), summary(theirs)))
    assert not mismatches, json.dumps(mismatches[:3], indent=1, default=str)[:4000]
    # the corpus really exercises both outcomes
    assert verdicts[True] > 300 and verdicts[False] > 300


@needs_kazoo
@pytest.mark.parametrize("module", FULL_SCHEMA_MODULES)
def test_oracle_good_samples_are_accepted_with_same_defaults(module: str) -> None:
    ours = FlowValidator(strict_blacklist=True)
    kazoo = FlowValidator(kazoo_schemas=KAZOO_DIR, strict_blacklist=True)
    for data in GOOD[module]:
        node = {"module": module, "data": data}
        mine, theirs = ours.validate_node(node), kazoo.validate_node(node)
        assert mine.ok, [i.message for i in mine.errors]
        assert theirs.ok, [i.message for i in theirs.errors]
        assert mine.node == theirs.node
    for data in BAD.get(module, []):
        node = {"module": module, "data": data}
        mine, theirs = ours.validate_node(node), kazoo.validate_node(node)
        assert not mine.ok, f"{module} should reject {data}"
        assert set(keyed(mine)) == set(keyed(theirs))
        assert mine.node == theirs.node


@needs_kazoo
def test_kazoo_mode_resolves_cross_file_refs() -> None:
    kazoo = FlowValidator(kazoo_schemas=KAZOO_DIR)
    assert kazoo.kazoo_mode and kazoo.is_known_module("conference")
    result = kazoo.validate_node(
        {"module": "conference", "data": {"config": {"profile": {"rate": 1}}}}
    )
    assert keyed(result) == [
        ("data.config.profile.rate", "enum")
    ]  # conferences -> conferences.profile
    result = kazoo.validate_node(
        {"module": "offnet", "data": {"custom_sip_headers": {"in": {"X-A": 1}}}}
    )
    assert keyed(result) == [("data.custom_sip_headers", "anyOf")]  # custom_sip_headers.json
    result = kazoo.validate_node(
        {"module": "audio_macro", "data": {"macros": [{"macro": "prompt", "id": "p"}]}}
    )
    assert result.ok and result.node["data"]["macros"][0]["terminators"] == ALL_KEYS


@pytest.mark.parametrize(
    "headers", [{"X-A": 1}, {"bad header!": "x"}, {"in": "x"}, {"X-A": "1", "out": {"X-B": "2"}}]
)
def test_custom_sip_headers_anyof_is_lenient(
    validator: FlowValidator, headers: dict[str, Any]
) -> None:
    # The second anyOf shape ({"in": map, "out": map}) restricts nothing else, so
    # Kazoo accepts these odd header objects; pivotsim must not be stricter.
    for module in ("resources", "offnet"):
        assert validator.validate_node(
            {"module": module, "data": {"custom_sip_headers": headers}}
        ).ok


def test_kazoo_schemas_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        FlowValidator(kazoo_schemas=tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        FlowValidator(tmp_path)
