"""Module-level TwiML apps that ``pivotsim call module:attr`` can load (see test_twiml_cli.py)."""

from __future__ import annotations

from flask import Flask, Response, request

LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    "]>\n<Response><Say>&lol3;</Say></Response>"
)

cdrs: list[dict[str, str]] = []


def _twiml(body: str) -> Response:
    return Response(f"<Response>{body}</Response>", mimetype="text/xml")


ivr = Flask("twiml_cli_ivr")


@ivr.route("/", methods=["GET", "POST"])
def welcome() -> Response:
    return _twiml('<Gather numDigits="1" action="menu.xml"><Say>Press 1</Say></Gather>')


@ivr.route("/menu.xml", methods=["POST"])
def menu() -> Response:
    return _twiml("<Say>Thanks</Say>")  # the document ends: with a cdr_url the call stays up


@ivr.route("/cdr", methods=["POST"])
def cdr() -> str:
    cdrs.append(request.form.to_dict())
    return ""


laughs = Flask("twiml_cli_laughs")


@laughs.route("/", methods=["GET", "POST"])
def lol() -> Response:
    return Response(LAUGHS, mimetype="text/xml")
