"""Twilio-style Flask IVRs, written the way Twilio's tutorials write them."""

from __future__ import annotations

from functools import wraps
from typing import Any

from flask import Flask, Response, abort, request

WELCOME = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response>'
    '<Gather numDigits="1" action="{action}" method="POST">'
    "<Say>For sales press 1. For support press 2.</Say>"
    "</Gather>"
    "<Redirect>{again}</Redirect>"
    "</Response>"
)


def extensionless_ivr(action: str = "/ivr/menu", again: str = "/ivr/welcome") -> Flask:
    """Routes without file extensions and root-relative actions, as in Twilio's Flask tutorial."""
    app = Flask("extensionless")
    app.seen = []  # type: ignore[attr-defined]

    @app.before_request
    def note() -> None:
        app.seen.append((request.method, request.path, request.values.to_dict()))  # type: ignore[attr-defined]

    @app.route("/ivr/welcome", methods=["GET", "POST"])
    def welcome() -> Response:
        return Response(WELCOME.format(action=action, again=again), mimetype="text/xml")

    @app.route("/ivr/menu", methods=["POST"])
    @app.route("/ivr/welcome/menu", methods=["POST"])
    def menu() -> Response:
        choice = request.form.get("Digits")
        said = {"1": "Connecting you to sales", "2": "Connecting you to support"}.get(choice or "", "Sorry")
        return Response(f"<Response><Say>{said}</Say><Hangup/></Response>", mimetype="text/xml")

    return app


def html_ivr() -> Flask:
    """Returns TwiML from the view as a plain string: Flask serves it as text/html."""
    app = Flask("html")

    @app.route("/voice", methods=["GET", "POST"])
    def voice() -> str:
        return "<Response><Say>Hello from Flask</Say><Hangup/></Response>"

    @app.route("/start.xml", methods=["GET", "POST"])
    def start() -> Response:
        return Response("<Response><Redirect>voice</Redirect></Response>", mimetype="text/xml")

    return app


def validate_twilio_request(f: Any) -> Any:
    """The decorator from Twilio's security docs, minus the crypto: no valid signature, ``abort(403)``.

    Flask's 403 page names neither a signature nor Twilio.
    """

    @wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        if "X-Twilio-Signature" not in request.headers:
            return abort(403)
        return f(*args, **kwargs)

    return decorated


def explaining_validation(f: Any) -> Any:
    """A home-grown variant that says why it refuses."""

    @wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        if "X-Twilio-Signature" not in request.headers:
            return Response("Invalid X-Twilio-Signature", status=403, mimetype="text/plain")
        return f(*args, **kwargs)

    return decorated


def signed_ivr(*, explain: bool = False) -> Flask:
    """``/voice`` behind Twilio request validation; ``/open.xml`` redirects there."""
    app = Flask("signed")
    guard = explaining_validation if explain else validate_twilio_request

    @app.route("/voice", methods=["GET", "POST"])
    @guard
    def voice() -> Response:
        return Response("<Response><Say>Signed</Say></Response>", mimetype="text/xml")

    @app.route("/open.xml", methods=["GET", "POST"])
    def open_() -> Response:
        return Response("<Response><Redirect>voice</Redirect></Response>", mimetype="text/xml")

    return app
