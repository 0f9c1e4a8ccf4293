"""Example Bank: a Kazoo-JSON Pivot IVR, written the way a real one is.

The call flow:

1. ``/start`` greets the caller and reads a 4-digit PIN with ``collect_dtmf``
   into the ``pin`` collection, then pivots to ``/auth``.
2. ``/auth`` checks ``Digits[pin]``. A good PIN stores the customer in Custom
   Application Vars (CAV chaining) and offers a ``menu``: 1 balance, 2 an agent,
   nothing at all: goodbye. A wrong PIN counts the attempt in a CAV and asks
   again; the third wrong PIN ends with a SIP 403.
3. ``/balance`` reads the customer from the CAVs and speaks the balance.

Each nested pivot has a ``_`` child, the failure branch Kazoo takes when the
server errors. Run it with ``pivotsim call pivotsim.examples.bank:app --press 1234 --press 1``.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request

app = Flask(__name__)

CUSTOMERS = {
    "1234": {"id": "c-1001", "name": "Alice", "balance": "1,234.56"},
    "4321": {"id": "c-1002", "name": "Bob", "balance": "87.10"},
}
MAX_ATTEMPTS = 3
AGENT_USER_ID = "6f1c1b7a9a2d4b5e8c0d1e2f3a4b5c6d"


def params() -> dict[str, Any]:
    """Kazoo's fields, whether they came as a query, a form or JSON."""
    if request.is_json:
        return request.get_json(silent=True) or {}
    out: dict[str, Any] = {}
    for key, value in request.values.items(multi=True):
        if "[" in key and key.endswith("]"):
            parent, _, child = key[:-1].partition("[")
            out.setdefault(parent, {})[child] = value
        else:
            out[key] = value
    return out


def url(path: str) -> str:
    return request.host_url.rstrip("/") + path


def pivot(path: str, failure: dict[str, Any] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "module": "pivot",
        "data": {"voice_url": url(path), "method": "post", "req_format": "kazoo", "req_body_format": "form"},
    }
    if failure:
        node["children"] = {"_": failure}
    return node


def say(text: str, then: dict[str, Any] | None = None, **data: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"module": "tts", "data": {"text": text, **data}}
    if then:
        node["children"] = {"_": then}
    return node


SORRY = say("Sorry, we cannot reach your account right now. Please call back later.", {"module": "hangup"})


@app.route("/", methods=["GET", "POST"])
@app.route("/start", methods=["GET", "POST"])
def start() -> Any:
    collect = {
        "module": "collect_dtmf",
        "data": {"collection_name": "pin", "max_digits": 4, "timeout": 8000},
        "children": {"_": pivot("/auth", SORRY)},
    }
    return jsonify(say("Welcome to Example Bank. Please enter your four digit PIN.", collect, terminators=[]))


@app.route("/auth", methods=["GET", "POST"])
def auth() -> Any:
    p = params()
    pin = (p.get("Digits") or {}).get("pin", "")
    cavs = p.get("Custom-Application-Vars") or {}
    customer = CUSTOMERS.get(pin)
    if customer is None:
        attempts = int(cavs.get("pin_attempts", "0") or 0) + 1
        if attempts >= MAX_ATTEMPTS:
            return jsonify(say("Too many attempts. Goodbye.",
                               {"module": "response", "data": {"code": 403, "message": "Too Many Attempts"}}))
        retry = {
            "module": "set_variables",
            "data": {"custom_application_vars": {"pin_attempts": str(attempts)}},
            "children": {"_": pivot("/start", SORRY)},
        }
        return jsonify(say("That PIN is not valid." if pin else "We did not hear a PIN.", retry))
    menu = {
        "module": "menu",
        "data": {},
        "children": {
            "1": pivot("/balance", SORRY),
            "2": {"module": "user", "data": {"id": AGENT_USER_ID, "timeout": 20},
                  "children": {"_": say("All our agents are busy. Goodbye.", {"module": "hangup"})}},
            "timeout": say("Goodbye.", {"module": "hangup"}),
        },
    }
    flow = {
        "module": "set_variables",
        "data": {"custom_application_vars": {"customer_id": customer["id"], "customer_name": customer["name"]}},
        "children": {"_": say(f"Hello {customer['name']}. Press 1 for your balance, or 2 to speak to an agent.",
                              menu)},
    }
    return jsonify(flow)


@app.route("/balance", methods=["GET", "POST"])
def balance() -> Any:
    cavs = params().get("Custom-Application-Vars") or {}
    customer = next((c for c in CUSTOMERS.values() if c["id"] == cavs.get("customer_id")), None)
    if customer is None:
        return jsonify(SORRY)
    return jsonify(say(f"Your balance is {customer['balance']} dollars. Goodbye.", {"module": "hangup"}))
