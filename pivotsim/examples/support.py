"""Example Support: a TwiML Pivot IVR written for Kazoo's dialect, not Twilio's.

The call flow (the pivot node says ``req_format: twiml``):

1. ``/voice`` tags the call with a ticket (``<Set><Variable>``, Kazoo's extension) and
   asks for a choice with a ``<Gather>`` around a ``<Say>``. With no input Kazoo makes no
   request (it never sends ``Digits=TIMEOUT``): the document goes on to a goodbye.
2. ``/menu`` gets ``Digits``: 1 joins the support conference (``<Dial><Conference>``:
   Kazoo hands the call over and stops the TwiML), 2 records a message, anything else
   says so and ``<Redirect>``s back to the start.
3. Kazoo PUTs the recording under ``recordingUrl`` (``/recordings/<file>``; without it,
   Kazoo would PUT it under the action URL), then ``/recorded`` gets ``RecordingUrl``,
   ``RecordingDuration`` and, as ``Digits``, the key that ended the recording.
4. ``/cdr`` takes the CDR Kazoo POSTs when ``cdr_url`` is set.

What makes it Kazoo-safe: every URL is absolute (Kazoo's ``resolve_uri`` would turn
``action="menu"`` from ``/voice`` into ``/voice/menu``), it is served as ``text/xml``
(as ``text/html`` Kazoo parses it as JSON and hangs up), and ``<Say>`` uses the voices and
languages Kazoo maps (``woman``, ``en``; ``alice`` or ``en-US`` are errors on Kazoo).
Run it with ``pivotsim call pivotsim.examples.support:app --req-format twiml --press 2``.
"""

from __future__ import annotations

import zlib
from xml.sax.saxutils import escape, quoteattr

from flask import Flask, Response, request

app = Flask(__name__)

CONFERENCE = "support-bridge"
CDRS: list[dict[str, str]] = []
RECORDINGS: dict[str, int] = {}  # file name -> bytes received


def url(path: str) -> str:
    return request.host_url.rstrip("/") + path


def twiml(*verbs: str) -> Response:
    return Response("<?xml version='1.0' encoding='UTF-8'?><Response>" + "".join(verbs) + "</Response>",
                    content_type="text/xml")


def say(text: str) -> str:
    return f'<Say voice="woman" language="en">{escape(text)}</Say>'


@app.route("/", methods=["GET", "POST"])
@app.route("/voice", methods=["GET", "POST"])
def voice() -> Response:
    ticket = f"T-{zlib.crc32(request.values.get('CallSid', '').encode()) % 10000:04d}"
    return twiml(
        f'<Set><Variable key="ticket" value={quoteattr(ticket)}/></Set>',
        f'<Gather action={quoteattr(url("/menu"))} method="POST" numDigits="1" timeout="6">',
        say("Thanks for calling Example Support. Press 1 to talk to us, or 2 to leave a message."),
        "</Gather>",
        say("We did not get a choice. Goodbye."),
        "<Hangup/>",
    )


@app.route("/menu", methods=["POST"])
def menu() -> Response:
    choice = request.values.get("Digits", "")
    if choice == "1":
        return twiml(say("Connecting you to the support bridge."),
                     f"<Dial><Conference>{CONFERENCE}</Conference></Dial>")
    if choice == "2":
        return twiml(
            say("Leave your message after the tone, then press pound."),
            f'<Record action={quoteattr(url("/recorded"))} recordingUrl={quoteattr(url("/recordings"))} '
            'maxLength="120" finishOnKey="#" timeout="5"/>',
            say("We did not hear a message. Goodbye."),
        )
    return twiml(say("Sorry, that is not a choice."), f'<Redirect method="GET">{escape(url("/voice"))}</Redirect>')


@app.route("/recorded", methods=["POST"])
def recorded() -> Response:
    seconds = request.values.get("RecordingDuration", "0")
    ticket = request.values.get("ticket", "unknown")
    return twiml(say(f"Thanks. We saved your {seconds} second message under ticket {ticket}. Goodbye."),
                 "<Hangup/>")


@app.route("/recordings/<name>", methods=["PUT"])
def store_recording(name: str) -> Response:
    RECORDINGS[name] = len(request.get_data())
    return Response("", status=201)


@app.route("/cdr", methods=["POST"])
def cdr() -> Response:
    CDRS.append(request.form.to_dict())
    return Response("", status=204)
