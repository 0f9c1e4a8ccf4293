"""Small Pivot apps the scenario tests target by module:attr (tests.scenario.apps:NAME)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, Response, jsonify, request

from pivotsim import CallableTransport, HTTPRequest, HTTPResponse

# A pizza line: a menu by digit, TwiML on one branch, a transfer and a temporal route.
pizza = Flask("pizza")
RESETS: list[int] = []


@pizza.route("/", methods=["GET", "POST"])
def pizza_start() -> Any:
    return jsonify({
        "module": "tts",
        "data": {"text": "Pizza Palace. Press 1 to order, 2 for opening hours, 3 for a person."},
        "children": {"_": {
            "module": "menu",
            "data": {"id": "main-menu"},
            "children": {
                "1": {"module": "pivot", "data": {"voice_url": request.host_url + "order", "method": "post",
                                                   "req_format": "twiml"}},
                "2": {"module": "temporal_route", "data": {"rules": ["open-hours"]},
                      "children": {"open-hours": {"module": "tts", "data": {"text": "We are open."}},
                                   "_": {"module": "tts", "data": {"text": "We are closed."}}}},
                "3": {"module": "transfer", "data": {"target": "+15555550111"}},
            },
        }},
    })


@pizza.route("/order", methods=["POST"])
def pizza_order() -> Any:
    size = request.form.get("Digits")
    if size:
        return Response(f"<Response><Say>One size {size} pizza coming.</Say><Hangup/></Response>",
                        mimetype="text/xml")
    return Response(
        f'<Response><Gather numDigits="1" action="{request.host_url}order" method="POST">'
        "<Say>Press 1 for small, 2 for large.</Say></Gather>"
        "<Say>Goodbye</Say></Response>",
        mimetype="text/xml",
    )


@pizza.route("/reset", methods=["POST"])
def pizza_reset() -> Any:
    RESETS.append(1)
    return jsonify({"ok": True})


# A slow server: the latency budget must catch it. It reports 60 ms itself, as a transport
# measures it, so no test waits on the machine's clock.
slow = CallableTransport(lambda req: HTTPResponse(
    200, {"content-type": "application/json"},
    b'{"module": "tts", "data": {"text": "Sorry for the wait."}}', elapsed_ms=60.0))


# A server that breaks: a 500 on its second request.
broken = Flask("broken")


@broken.route("/", methods=["GET", "POST"])
def broken_start() -> Any:
    return jsonify({"module": "collect_dtmf", "data": {"max_digits": 1},
                    "children": {"_": {"module": "pivot", "data": {
                        "voice_url": request.host_url + "next", "method": "post", "req_format": "kazoo"},
                        "children": {"_": {"module": "tts", "data": {"text": "Fallback."}}}}}})


@broken.route("/next", methods=["POST"])
def broken_next() -> Any:
    raise RuntimeError("database down")


# The app of the "new user" exercise: written, with its scenarios, from docs/scenarios.md alone.
dental = Flask("dental")
_FRONT_DESK = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
_VOICEMAIL = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"


def _nested(path: str) -> dict[str, Any]:
    return {"module": "pivot", "data": {"voice_url": request.host_url.rstrip("/") + path, "method": "post",
                                         "req_format": "kazoo", "req_body_format": "json"}}


@dental.route("/", methods=["GET", "POST"])
def dental_start() -> Any:
    return jsonify({
        "module": "tts",
        "data": {"text": "Thanks for calling Smile Dental. Press 1 for your appointment, 2 for the front desk."},
        "children": {"_": {"module": "collect_dtmf", "data": {"collection_name": "choice", "max_digits": 1,
                                                                "timeout": 5000},
                           "children": {"_": _nested("/route")}}},
    })


@dental.route("/route", methods=["POST"])
def dental_route() -> Any:
    body = request.get_json() or {}
    choice = (body.get("Digits") or {}).get("choice")
    if choice == "1":
        name = body.get("Caller-ID-Name") or "there"
        return jsonify({"module": "tts", "data": {"text": f"Hi {name}. Your next appointment is Monday at 9."},
                        "children": {"_": {"module": "hangup"}}})
    if choice == "2":
        return jsonify({"module": "device", "data": {"id": _FRONT_DESK, "timeout": 15},
                        "children": {"_": {"module": "voicemail", "data": {"id": _VOICEMAIL}}}})
    tries = int((body.get("Custom-Application-Vars") or {}).get("tries", "0")) + 1
    if tries > 2:
        return jsonify({"module": "tts", "data": {"text": "Goodbye."}, "children": {"_": {"module": "hangup"}}})
    return jsonify({"module": "set_variables", "data": {"custom_application_vars": {"tries": str(tries)}},
                    "children": {"_": {"module": "tts", "data": {"text": "Sorry, I did not get that."},
                                       "children": {"_": _nested("/")}}}})


# A nested pivot whose voice_url carries its own query string (form and JSON bodies).
query = Flask("query")


@query.route("/", methods=["GET"])
def query_start() -> Any:
    fmt = request.args.get("fmt", "form")
    return jsonify({"module": "pivot", "data": {"voice_url": request.host_url + "order?size=large&Language=xx",
                                                 "method": "post", "req_format": "kazoo", "req_body_format": fmt}})


@query.route("/order", methods=["POST"])
def query_order() -> Any:
    return jsonify({"module": "tts", "data": {"text": f"A {request.values.get('size')} pizza."}})


# Two pivots with their own req_timeout_ms: the second is slow for its 100 ms budget. The
# latencies are the transport's own figures, so the test never depends on the machine's speed.
def _budgets(req: HTTPRequest) -> HTTPResponse:
    if req.url.split("?", 1)[0].endswith("/next"):
        return HTTPResponse(200, {"content-type": "application/json"}, b'{"module": "hangup"}', elapsed_ms=30.0)
    node = {"module": "pivot", "data": {"voice_url": "http://pivot.example/next", "method": "post",
                                        "req_format": "kazoo", "req_timeout_ms": 100}}
    return HTTPResponse(200, {"content-type": "application/json"}, json.dumps(node).encode(), elapsed_ms=1.0)


budgets = CallableTransport(_budgets)


# A server whose prompt carries terminal escape sequences.
escapes = Flask("escapes")


@escapes.route("/", methods=["GET"])
def escapes_start() -> Any:
    return jsonify({"module": "tts", "data": {"text": "Hi \x1b[2J\x1b]0;pwned\x07 there"}})
