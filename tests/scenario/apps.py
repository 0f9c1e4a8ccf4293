"""Small Pivot apps the scenario tests target by module:attr (tests.scenario.apps:NAME)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, jsonify, request

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


# A slow server: the latency budget must catch it.
slow = Flask("slow")


@slow.route("/", methods=["GET", "POST"])
def slow_start() -> Any:
    time.sleep(0.06)
    return jsonify({"module": "tts", "data": {"text": "Sorry for the wait."}})


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
