"""Matchers, comparison rules and ${name} substitution."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pivotsim.scenario.matchers import (
    MISSING,
    Absent,
    AnyValue,
    Range,
    Re,
    Type,
    compare,
    matcher_from_mapping,
    scalar_equal,
)
from pivotsim.scenario.template import UnknownVariable, references, substitute


def paths(expected: object, actual: object, **kw: object) -> list[str]:
    return [m.path for m in compare(expected, actual, **kw)]  # type: ignore[arg-type]


def test_re_searches_text_only() -> None:
    assert Re("ice").matches("Hello Alice") and not Re("^ice").matches("Alice")
    assert not Re("1").matches(["1"]) and not Re("x").matches(MISSING) and not Re("t").matches(True)
    assert Re("12").matches(1234)  # numbers are read as their text


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("str", ["", "x"], [1, None]),
        ("int", [3, "42", "-7"], [True, 1.5, "4.2", "x"]),
        ("number", [1, 1.5, "2.5"], [True, "nan!", None]),
        ("bool", [True, "false"], [1, "yes"]),
        ("list", [[]], [{}]),
        ("dict", [{}], [[]]),
        ("null", [None], [""]),
        ("digits", ["", "12*#", "A"], ["12x", 12]),
    ],
)
def test_type_names(name: str, good: list[object], bad: list[object]) -> None:
    t = Type(name)
    assert all(t.matches(v) for v in good)
    assert not any(t.matches(v) for v in bad)
    assert not t.matches(MISSING)


def test_unknown_type_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown type 'integer'"):
        Type("integer")


def test_absent_any_and_range() -> None:
    assert paths({"a": Absent()}, {}) == [] and paths({"a": Absent()}, {"a": ""}) == ["a"]
    assert paths({"a": AnyValue()}, {"a": None}) == [] and paths({"a": AnyValue()}, {}) == ["a"]
    assert Range(1, 3).matches(2) and Range(max=3).matches("3") and not Range(min=4).matches(3)
    assert not Range(1, 2).matches("x") and Range(1, 2).describe() == "1 <= value <= 2"


def test_matcher_mapping_form() -> None:
    assert matcher_from_mapping({"$re": "x"}) == Re("x")
    assert matcher_from_mapping({"$type": "int"}) == Type("int")
    assert isinstance(matcher_from_mapping({"$absent": True}), Absent)
    assert matcher_from_mapping({"plain": 1}) is None
    for bad in ({"$re": 1}, {"$absent": False}, {"$re": "x", "other": 1}, {"$re": "("}):
        with pytest.raises(ValueError):
            matcher_from_mapping(bad)


def test_partial_mappings_and_strict() -> None:
    actual = {"module": "tts", "data": {"text": "Hi", "voice": "female"}, "children": {}}
    assert paths({"module": "tts", "data": {"text": "Hi"}}, actual) == []
    assert paths({"module": "tts", "data": {"text": "Hi"}}, actual, strict=True) == ["data.voice", "children"]
    assert paths({"data": {"text": "Ho"}}, actual) == ["data.text"]


def test_lists_are_ordered_subsequences_unless_strict() -> None:
    actual = [{"Say": "a"}, {"Pause": 1}, {"Say": "b"}]
    assert paths([{"Say": "a"}, {"Say": "b"}], actual) == []
    assert paths([{"Say": "b"}, {"Say": "a"}], actual) != []  # order matters
    assert paths([{"Say": "a"}, {"Say": "b"}], actual, strict=True) == ["[1].Say", "[1].Pause", "[2]"]
    assert paths(["x"], []) == ["[0]"]


def test_form_text_equals_numbers_and_booleans() -> None:
    assert scalar_equal(1234, "1234") and scalar_equal(True, "true") and scalar_equal(2.0, "2")
    assert not scalar_equal("1234", 1234) and not scalar_equal(1, True) and not scalar_equal(None, "")


def test_mismatch_messages_say_what_differed() -> None:
    (mm,) = compare({"a": {"b": Re("^x")}}, {"a": {"b": "yes"}})
    assert mm.describe() == 'a.b: expected !re ^x, got "yes"'
    (mm,) = compare({"a": Absent()}, {"a": 1})
    assert mm.describe() == "a: expected absent, got 1"
    (mm,) = compare({"a": 1}, {})
    assert mm.describe() == "a: expected 1, got missing"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=3), kids, max_size=3),
                    max_leaves=10))
def test_a_value_always_matches_itself_strictly(value: object) -> None:
    assert compare(value, value, strict=True) == []


# -- ${name} ------------------------------------------------------------------------------


def test_substitution_keeps_types_for_whole_references() -> None:
    scope = {"pin": "0042", "n": 3, "cust": {"name": "Ann"}, "flag": True}
    assert substitute("${n}", scope) == 3
    assert substitute("x${n}y", scope) == "x3y"
    assert substitute("${cust.name}!", scope) == "Ann!"
    assert substitute({"a": ["${pin}", "${flag}"]}, scope) == {"a": ["0042", True]}
    assert substitute("flag=${flag}", scope) == "flag=true"
    assert substitute("{not: ${n}} and $${pin}", scope) == "{not: 3} and ${pin}"


def test_substitution_in_regexes_is_literal() -> None:
    assert substitute(Re("^${x}$"), {"x": "1+1"}).pattern == r"^1\+1$"
    assert substitute(Re("${x}"), {"x": "a.b"}).matches("a.b") and not substitute(Re("${x}"), {"x": "a.b"}).matches("axb")


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIVOT_URL", "http://x/")
    assert substitute("${env.PIVOT_URL}start", {}) == "http://x/start"
    monkeypatch.delenv("PIVOT_URL")
    with pytest.raises(UnknownVariable, match="PIVOT_URL is not set"):
        substitute("${env.PIVOT_URL}", {})


def test_unknown_names_are_explained() -> None:
    with pytest.raises(UnknownVariable, match=r"unknown variable \$\{nme\} \(did you mean \$\{name\}\?\); known: name"):
        substitute("${nme}", {"name": 1})
    with pytest.raises(UnknownVariable, match="cust has no key 'age'"):
        substitute("${cust.age}", {"cust": {"name": "x"}})
    with pytest.raises(UnknownVariable, match="not a variable reference"):
        substitute("${a b}", {})
    assert references("${a} ${b.c} $${d}") == ["a", "b.c"]
