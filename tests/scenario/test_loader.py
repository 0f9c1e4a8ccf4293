"""Loading scenario files: YAML with positions, the schema, and every kind of malformed file."""

from __future__ import annotations

import pytest

from pivotsim.scenario import model as m
from pivotsim.scenario.loader import load_file, load_paths, load_text, nest_params
from pivotsim.scenario.matchers import Absent, AnyValue, Re, Type
from pivotsim.scenario.source import SourceError, read_documents

BANK = "target: pivotsim.examples.bank:app\n"


def problems(text: str, name: str = "t.pivot.yaml") -> list[str]:
    with pytest.raises(SourceError) as info:
        load_text(text, name)
    return [str(p) for p in info.value.problems]


# -- YAML values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0123", "0123"),  # a PIN, not octal
        ("+15555550100", "+15555550100"),  # a phone number, not an int
        ("1234", 1234),
        ("-5", -5),
        ("1.5", 1.5),
        ("yes", "yes"),  # YAML 1.1's booleans are text
        ("off", "off"),
        ("1:30", "1:30"),  # not sexagesimal
        ("true", True),
        ("~", None),
        ('"12"', "12"),
        ("!!str 12", "12"),
    ],
)
def test_plain_scalars_resolve_like_yaml_1_2_and_keep_telephony_text(text: str, value: object) -> None:
    got = read_documents(f"a: {text}\n", "x.yaml")[0].value["a"]
    assert got == value and type(got) is type(value)


def test_positions_of_keys_and_values_are_recorded() -> None:
    doc = read_documents("a:\n  b: [1, {c: 2}]\n", "x.yaml")[0]
    assert str(doc.positions.key(("a", "b"))) == "x.yaml:2:3"
    assert str(doc.positions.value(("a", "b", 1, "c"))) == "x.yaml:2:14"


def test_tags_become_matchers_and_merge_keys_work() -> None:
    text = (
        "scenario: s\n" + BANK
        + "variables: &v {pin: '1234'}\n"
        "steps:\n"
        "  - request:\n"
        "      params:\n"
        "        A: !re ^x\n"
        "        B: !type int\n"
        "        C: !absent\n"
        "        D: !any\n"
        "        E: {$re: y$}\n"
        "        F[g]: '1'\n"
    )
    (scn,) = load_text(text)
    step = scn.steps[0]
    assert isinstance(step, m.RequestStep)
    p = step.params
    assert isinstance(p["A"], Re) and p["A"].pattern == "^x"
    assert isinstance(p["B"], Type) and isinstance(p["C"], Absent) and isinstance(p["D"], AnyValue)
    assert isinstance(p["E"], Re) and p["F"] == {"g": "1"}


def test_nest_params() -> None:
    assert nest_params({"Digits[pin]": "1", "Digits": {"x": "2"}, "A[b][c]": 3}) == {
        "Digits": {"pin": "1", "x": "2"}, "A": {"b": {"c": 3}}}


def test_a_file_may_hold_several_scenarios_and_a_defaults_document(write) -> None:
    path = write("two.pivot.yaml",
                 "defaults:\n  target: pivotsim.examples.bank:app\n  call: {seed: 3, language: en-us}\n"
                 "---\nscenario: one\nsteps: [press: '1']\n"
                 "---\nscenario: two\ncall: {language: fr-ca}\nsteps: [hangup]\n")
    one, two = load_file(path)
    assert one.target == two.target == "pivotsim.examples.bank:app"
    assert two.call == {"seed": 3, "language": "fr-ca"}
    assert one.id.endswith("two.pivot.yaml::one")
    assert isinstance(two.steps[0], m.Hangup)


def test_parametrize_table_and_list_give_ids() -> None:
    text = ("scenario: s\n" + BANK
            + "parametrize:\n  columns: [pin, who]\n  rows: [['1234', Alice], ['4321', Bob Jones]]\n"
            "steps: [press: '${pin}']\n---\n"
            "scenario: l\n" + BANK
            + "parametrize:\n  - {id: first, pin: '1'}\n  - {pin: '2'}\n  - {pin: '2'}\nsteps: [press: '${pin}']\n")
    ids = [s.test_name for s in load_text(text)]
    assert ids == ["s[1234-Alice]", "s[4321-Bob_Jones]", "l[first]", "l[2]", "l[21]"]


def test_includes_expand_with_bound_variables_and_remember_the_include_site(write) -> None:
    write("shared/pin.steps.yaml", "variables: {pin: '0000'}\nsteps:\n  - press: ${pin}\n"
          "blocks:\n  menu:\n    - include: pin.steps.yaml\n    - press: '1'\n")
    path = write("s.pivot.yaml", "scenario: s\n" + BANK
                 + "steps:\n  - include: {file: shared/pin.steps.yaml#menu, with: {pin: '1234'}}\n")
    (scn,) = load_file(path)
    assert [s.kind for s in scn.steps] == ["press", "press"]
    first = scn.steps[0]
    assert first.loc.file.endswith("pin.steps.yaml") and first.loc.line == 3
    assert [v.line for v in first.via] == [4, 6]
    assert first.bound[-1] == ({"pin": "0000"}, {})


# -- malformed files: every problem, with its file:line:col -------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # YAML syntax
        ("scenario: s\nsteps: [press: '1'\n", "t.pivot.yaml:3:1: YAML syntax error"),
        ("scenario: s\n" + BANK + "steps:\n  - request: {params: {Digits[pin]: '1'}}\n",
         "quote keys with brackets"),
        ("scenario: s\n" + BANK + "steps:\n  - request: {params: {Digits: !absent}}\n",
         "put a space after !absent"),
        # unknown keys, at every level, with a suggestion
        ("scenario: s\n" + BANK + "stpes: []\n", "t.pivot.yaml:3:1: the document: unknown key 'stpes' "
                                                 "(did you mean 'steps'?)"),
        ("scenario: s\n" + BANK + "steps:\n  - pres: '1'\n", "t.pivot.yaml:4:5: steps[0]: unknown key 'pres' "
                                                            "(did you mean 'press'?)"),
        ("scenario: s\n" + BANK + "node: {metod: post}\nsteps: []\n", "t.pivot.yaml:3:8: node: unknown key 'metod'"),
        ("scenario: s\n" + BANK + "steps:\n  - request: {pth: /x}\n", "t.pivot.yaml:4:15: steps[0].request: "
                                                                      "unknown key 'pth'"),
        ("scenario: s\n" + BANK + "end: {reson: hangup}\nsteps: []\n", "end: unknown key 'reson'"),
        # wrong types and values
        ("scenario: s\n" + BANK + "node: {req_timeout_ms: 9000}\nsteps: []\n",
         "t.pivot.yaml:3:24: node.req_timeout_ms: 9000 is greater than the maximum of 5000"),
        ("scenario: s\n" + BANK + "node: {method: PUSH}\nsteps: []\n", "node.method: expected one of get, post, GET, POST or a ${name} reference, got text 'PUSH'"),
        ("scenario: s\n" + BANK + "steps:\n  - press: 12x\n", "t.pivot.yaml:4:12: steps[0].press: '12x' is not "
                                                            "DTMF digits"),
        ("scenario: s\n" + BANK + "steps: {press: '1'}\n", "t.pivot.yaml:3:8: steps: expected a list, got a mapping"),
        ("scenario: [s]\n" + BANK + "steps: []\n", "t.pivot.yaml:1:11: scenario: expected text, got a list"),
        ("scenario: s\n" + BANK + "steps:\n  - 1234\n", "steps[0]: a step is a mapping such as"),
        ("scenario: s\n" + BANK + "steps:\n  - wait: soon\n  - press: '1'\n", "is not a duration"),
        ("scenario: s\n" + BANK + "end: {reason: hung}\nsteps: []\n", "end.reason: expected one of hangup"),
        ("scenario: s\n" + BANK + "steps:\n  - prompt: !type integer\n", "steps[0].prompt"),
        # missing keys
        ("scenario: s\nsteps: []\n", "t.pivot.yaml:1:1: scenario 's' has no target"),
        ("scenario: s\n" + BANK, "t.pivot.yaml:1:1: the document: missing required key 'steps'"),
        ("target: x:y\nsteps: []\n", "missing required key 'scenario'"),
        # matchers and tags
        ("scenario: s\n" + BANK + "steps:\n  - prompt: !re '('\n", "invalid regular expression"),
        ("scenario: s\n" + BANK + "steps:\n  - prompt: !regex x\n", "t.pivot.yaml:4:13: unknown tag !regex"),
        ("scenario: s\n" + BANK + "steps:\n  - prompt: !absent x\n", "!absent takes no value"),
        ("scenario: s\n" + BANK + "call: {caller_id_name: !re x}\nsteps: []\n",
         "t.pivot.yaml:3:24: call.caller_id_name: expected text, got a matcher"),
        ("scenario: s\n" + BANK + "call: {cavs: {a: !re x}}\nsteps: []\n", "belong in expectations"),
        # variables
        ("scenario: s\n" + BANK + "variables: {name: x}\nsteps:\n  - prompt: ${nmae}\n",
         "t.pivot.yaml:5:13: steps[0].prompt: unknown variable ${nmae} (did you mean ${name}?); known: name"),
        ("scenario: s\n" + BANK + "steps:\n  - request: {}\n    save: {cid: params.Call-ID}\n  - press: ${cid}\n",
         "is saved by the step at line 4, after the call"),
        ("scenario: s\n" + BANK + "variables: {a: '${b}', b: x}\nsteps: []\n", "is defined after a"),
        # structure of steps
        ("scenario: s\n" + BANK + "steps:\n  - press: '1'\n    prompt: x\n", "one action or expectation per step"),
        ("scenario: s\n" + BANK + "steps:\n  - wait: 1s\n  - prompt: x\n", "wait delays the next press, type_ahead or hangup"),
        ("scenario: s\n" + BANK + "steps: []\nfinally:\n  - press: '1'\n", "finally runs after the call"),
        ("scenario: s\n" + BANK + "steps:\n  - http: {path: /reset}\n", "http steps go in finally"),
        ("scenario: s\n" + BANK + "steps:\n  - press: '1'\n    save: {x: y}\n", "save goes on an expectation step"),
        ("scenario: s\n" + BANK + "steps:\n  - include: nowhere.steps.yaml\n", "cannot read nowhere.steps.yaml"),
        # parametrize and names
        ("scenario: s\n" + BANK + "parametrize: {columns: [a, b], rows: [[1]]}\nsteps: []\n",
         "1 values for 2 columns"),
        ("scenario: s\n" + BANK + "steps: []\n---\nscenario: s\n" + BANK + "steps: []\n", "is already defined at line 1"),
        ("scenario: s\n" + BANK + "steps: []\n---\n- a list\n", "a document is a scenario"),
        ("a: 1\na: 2\n", "t.pivot.yaml:2:1: duplicate key 'a' (first at line 1)"),
    ],
)
def test_malformed_files_give_line_numbered_messages(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found
    assert all(p.startswith("t.pivot.yaml:") for p in found), found


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    found = problems("scenario: s\n" + BANK + "node: {metod: post}\nsteps:\n  - pres: '1'\n  - press: x\n")
    assert len(found) == 3, found
    assert [p.split(":")[1] for p in found] == ["3", "5", "6"]


def test_include_cycles_and_missing_blocks_are_reported(write) -> None:
    write("a.steps.yaml", "steps:\n  - include: b.steps.yaml\n")
    write("b.steps.yaml", "steps:\n  - include: a.steps.yaml\nblocks: {x: [hangup]}\n")
    path = write("s.pivot.yaml", "scenario: s\n" + BANK + "steps:\n  - include: a.steps.yaml\n"
                 "  - include: b.steps.yaml#y\n")
    with pytest.raises(SourceError) as info:
        load_file(path)
    text = str(info.value)
    assert "include cycle" in text and "has no block 'y'; its blocks: x" in text


def test_a_bad_steps_file_is_reported_with_its_own_lines(write) -> None:
    write("bad.steps.yaml", "steps:\n  - presss: '1'\n")
    path = write("s.pivot.yaml", "scenario: s\n" + BANK + "steps:\n  - include: bad.steps.yaml\n")
    with pytest.raises(SourceError) as info:
        load_file(path)
    assert "bad.steps.yaml:2:5: steps[0]: unknown key 'presss'" in str(info.value)


def test_load_paths_searches_folders_and_reports_missing_paths(write, tmp_path) -> None:
    write("a/one.pivot.yaml", "scenario: one\n" + BANK + "steps: []\n")
    write("a/b/two.pivot.yml", "scenario: two\n" + BANK + "steps: []\n")
    write("a/shared.steps.yaml", "steps: []\n")
    write("a/.hidden/three.pivot.yaml", "scenario: three\n" + BANK + "steps: []\n")
    names = sorted(s.name for s in load_paths([tmp_path / "a"]))
    assert names == ["one", "two"]
    with pytest.raises(SourceError, match="no such file or folder"):
        load_paths([tmp_path / "nope"])
    with pytest.raises(SourceError, match="no \\*.pivot.yaml files"):
        load_paths([write("empty/readme.txt", "x").parent])


def test_fixtures_may_come_from_a_file(write) -> None:
    write("fx.yaml", "outcomes: {ring_group: busy}\nmedia: {hello: 1000}\n")
    (scn,) = load_file(write("s.pivot.yaml", "scenario: s\n" + BANK + "fixtures: fx.yaml\nsteps: []\n"))
    assert scn.fixtures == {"outcomes": {"ring_group": "busy"}, "media": {"hello": 1000}}
    write("bad.yaml", "outcome: {}\n")
    with pytest.raises(SourceError, match="bad.yaml:1:1: the document: unknown key 'outcome'"):
        load_file(write("t.pivot.yaml", "scenario: s\n" + BANK + "fixtures: bad.yaml\nsteps: []\n"))


def test_the_schema_file_is_valid_json_schema() -> None:
    from jsonschema import Draft202012Validator

    from pivotsim.scenario.loader import schema

    Draft202012Validator.check_schema(schema())
    assert set(schema()["$defs"]["scenario"]["properties"]) >= {"scenario", "steps", "target", "end", "finally"}
