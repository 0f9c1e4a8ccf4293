"""Kazoo's form encoding (contract §1.7, §9 item 21)."""

from __future__ import annotations

import pytest

from pivotsim._encoding import NullValueError, form_decode, form_encode


def test_spaces_become_plus_and_reserved_bytes_are_uppercase_hex() -> None:
    assert form_encode({"Caller-ID-Name": "Ana María O'Neil"}) == "Caller-ID-Name=Ana+Mar%C3%ADa+O%27Neil"


def test_unreserved_characters_are_kept() -> None:
    assert form_encode({"k": "a-b_c.d~e"}) == "k=a-b_c.d~e"


def test_keys_are_not_encoded() -> None:
    assert form_encode({"Custom-Application-Vars": {"my key": "v"}}) == "Custom-Application-Vars[my key]=v"


def test_nested_objects_and_arrays() -> None:
    encoded = form_encode({"A": {"b": {"c": "1"}}, "User-ID": ["u1", "u2"], "P": {"k": ["x"]}})
    assert encoded == "A[b][c]=1&User-ID[]=u1&User-ID[]=u2&P[k][]=x"


def test_empty_object_leaves_an_empty_segment() -> None:
    encoded = form_encode({"A": "1", "Custom-Application-Vars": {}, "Custom-SIP-Headers": {}, "Z": "2"})
    assert encoded == "A=1&&&Z=2"
    assert form_encode({"A": "1", "B": {}}) == "A=1&"


def test_booleans_and_numbers_print_as_they_are() -> None:
    assert form_encode({"t": True, "f": False, "n": 5, "x": 1.5}) == "t=true&f=false&n=5&x=1.5"


def test_null_has_no_encoder_clause() -> None:
    with pytest.raises(NullValueError) as info:
        form_encode({"Custom-Application-Vars": {"gone": None}})
    assert info.value.key == "Custom-Application-Vars[gone]"


def test_decode_skips_empty_segments_and_keeps_order() -> None:
    assert form_decode("b=2&&a=1+2&Digits[pin]=12%23") == [["b", "2"], ["a", "1 2"], ["Digits[pin]", "12#"]]
