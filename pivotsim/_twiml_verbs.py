"""TwiML verbs as kzt_twiml runs them (contract §4.2-4.4, §4.8).

Each verb returns what kzt_twiml's ``exec_element`` returns: carry on with the
next verb (:data:`OK`), make a :class:`Request`, or :class:`Stop`. A runtime
error (Kazoo's crash, caught by ``exec_elements``) is a :class:`TwimlError`.
Attribute parsing follows ``kzt_twiml_util`` exactly, including what crashes.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._caller import Hangup, Press, TypeAhead
from ._clock import CallerHungUp
from ._context import ALL_DIGITS
from ._request import _REQ_VAR_KEYS
from ._transcript import End
from ._transports import HTTPRequest, TransportError
from ._twiml_xml import Element
from ._urls import MethodError, ResolveError, http_method, resolve_uri, url_habits

if TYPE_CHECKING:
    from ._context import CallContext
    from ._pivot import PivotSession

__all__ = ["TwimlRun", "OK", "Ok", "Request", "Stop", "TwimlError", "Endless", "exec_element"]

TTS_SIZE_LIMIT = 4000  # pivot.tts_texts_size
MAX_RECORD_S = 3600  # kzt_twiml max_length
RECORD_TALK_MS = 5000  # how long pivotsim's caller speaks before pressing a key at <Record>
BEEP_MS = 600  # 440 Hz for 500 ms, then 100 ms off
DEFAULT_VOICE = "female"  # kazoo_tts:default_voice()
DEFAULT_LANGUAGE = "en-us"  # kazoo_tts:default_language()

_VOICES = {"man": "male", "male": "male", "woman": "female", "female": "female"}
_LANGUAGES = {"en": "en-US", "en-gb": "en-GB", "es": "es", "fr": "fr", "de": "de", "it": "it"}

# Twilio verbs and nouns Kazoo's TwiML does not have, with what to do instead.
_TWILIO_ONLY = {
    "Enqueue": "Kazoo has no TwiML queues",
    "Leave": "Kazoo has no TwiML queues",
    "Sms": "Kazoo's TwiML cannot send messages",
    "Message": "Kazoo's TwiML cannot send messages",
    "Connect": "Kazoo has no media streams or virtual agents",
    "Stream": "Kazoo has no media streams",
    "Start": "Kazoo has no media streams",
    "Stop": "Kazoo has no media streams",
    "Refer": "Kazoo's TwiML cannot send a SIP REFER",
    "Echo": "Kazoo's TwiML has no echo test",
    "Pay": "Kazoo's TwiML has no payments",
    "Prompt": "Kazoo's TwiML has no payments",
}
_NOUNS = ("Number", "User", "Device", "Sip", "Conference", "Queue", "Client", "Variable")

# Twilio attributes Kazoo ignores, per verb: (level, explanation).
_IGNORED: dict[str, dict[str, tuple[str, str]]] = {
    "Say": {},
    "Play": {
        "digits": (
            "warning",
            "Kazoo's <Play> has no digits attribute: it plays the element's "
            "text as a media URL and plays no DTMF",
        )
    },
    "Gather": {
        "input": ("warning", "Kazoo has no speech recognition: only DTMF is collected"),
        "hints": ("info", "Kazoo has no speech recognition"),
        "speechTimeout": ("info", "Kazoo has no speech recognition"),
        "speechModel": ("info", "Kazoo has no speech recognition"),
        "enhanced": ("info", "Kazoo has no speech recognition"),
        "profanityFilter": ("info", "Kazoo has no speech recognition"),
        "language": ("info", "Kazoo's <Gather> ignores language (it is a speech setting)"),
        "partialResultCallback": ("info", "Kazoo never calls partialResultCallback"),
        "actionOnEmptyResult": (
            "warning",
            "Kazoo ignores actionOnEmptyResult: with no digits it "
            "never requests the action, it runs the next verb",
        ),
        "bargeIn": ("info", "Kazoo always stops the nested prompts on the first digit"),
    },
    "Record": {
        "transcribe": ("warning", "Kazoo never transcribes: no TranscriptionText is ever sent"),
        "transcribeCallback": (
            "warning",
            "Kazoo never transcribes, so it never calls transcribeCallback",
        ),
        "recordingStatusCallback": ("warning", "Kazoo never calls recordingStatusCallback"),
        "trim": ("info", "Kazoo does not trim silence"),
    },
    "Dial": {
        "answerOnBridge": ("info", "Kazoo ignores answerOnBridge"),
        "ringTone": ("info", "Kazoo ignores ringTone"),
        "recordingStatusCallback": ("info", "Kazoo never calls recordingStatusCallback"),
        "statusCallback": ("info", "Kazoo never calls statusCallback"),
        "sequential": ("info", "Kazoo ignores sequential (its own attribute is strategy)"),
    },
    "Redirect": {},
}


class TwimlError(Exception):
    """A verb crashed or threw: kzt_twiml's exec_elements turns it into ``{error, Call}``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Endless(Exception):
    """A prompt with ``loop="0"`` repeats until the caller hangs up, and this one never does."""


@dataclass(frozen=True)
class Ok:
    """Go on with the next verb."""


OK = Ok()


@dataclass(frozen=True)
class Request:
    """Ask the server what next: ``pivot_call`` requests ``url`` with ``method``.

    ``then_end`` is set when the call is already over (Kazoo still sends the request).
    """

    url: str
    method: str
    purpose: str
    verb: str
    then_end: End | None = None


@dataclass(frozen=True)
class Stop:
    """``{stop, Call}``: with ``end`` the call is over; without, pivot_call's stop decides."""

    end: End | None = None
    why: str = ""


Outcome = Any  # Ok | Request | Stop


class TwimlRun:
    """One TwiML session (one ``pivot_call``): its current URL and what it knows."""

    def __init__(self, session: PivotSession) -> None:
        self.session = session
        self.ctx: CallContext = session.ctx
        self.voice_uri = session.voice_url
        self.doc_path = ""
        self.pivot_path = session.ctx.node_path
        self.cdr_alive = False
        self.last_url_notes: list[str] = []
        self.dial_count = 0
        state = self.ctx.state
        # pivot_call works on its own copy of the call (kapps_call:to_json in the pivot_req):
        # what TwiML changes never reaches callflow's copy.
        self.snapshot = (copy.deepcopy(state.kvs), copy.deepcopy(state.user_vars), state.props)

    # -- helpers -------------------------------------------------------------
    def diag(self, level: str, code: str, message: str, path: str | None = None) -> None:
        self.ctx.diag(level, code, message, path=path or self.ctx.node_path)

    def restore_callflow_copy(self) -> None:
        kvs, user_vars, props = self.snapshot
        state = self.ctx.state
        state.kvs = copy.deepcopy(kvs)
        state.user_vars = copy.deepcopy(user_vars)
        state.props = props

    def resolve(self, el: Element, action: str | None, what: str) -> str:
        """resolve_uri(current voice URI, action), with the Twilio habits it breaks."""
        try:
            url = resolve_uri(self.voice_uri, action)
        except ResolveError as exc:
            raise TwimlError("twiml.resolve_uri", str(exc)) from None
        notes = url_habits(self.voice_uri, action, url) if action is not None else []
        self.last_url_notes = notes
        for note in notes:
            self.diag("warning", "twiml.url_resolution",
                      f"<{el.tag}> {what}: {note}. Write the absolute URL there (Flask: "
                      "url_for(..., _external=True)) and Kazoo and Twilio agree")
        return url

    def method(self, el: Element) -> str:
        value = el.attrs.get("method")
        try:
            method, known = http_method(value)
        except MethodError as exc:
            raise TwimlError("twiml.bad_method", f"<{el.tag}> {exc}") from None
        if not known:
            self.diag(
                "warning",
                "twiml.unknown_method",
                f"<{el.tag} method={value!r}> is neither GET nor POST: Kazoo silently uses POST",
            )
        return method

    def add_digits(self, digits: str) -> None:
        """kzt_util:add_digit_collected, one DTMF at a time."""
        kvs = self.ctx.state.kvs
        for d in digits:
            cur = kvs.get("digits_collected")
            kvs["digits_collected"] = cur + d if isinstance(cur, str) else d

    def set_user_var(self, key: str, value: str | None) -> None:
        """kzt_translator:set_user_vars: today's ReqVars are frozen into the user vars too."""
        state = self.ctx.state
        req_vars = {name: state.kvs[k] for name, k in _REQ_VAR_KEYS if state.kvs.get(k) is not None}
        merged = {**state.user_vars, **req_vars}
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
        state.user_vars = merged

    def set_call_status(self, status: str) -> None:
        self.ctx.state.kvs["call_status"] = status

    def b_leg_id(self) -> str:
        import hashlib

        self.dial_count += 1
        seed = f"{self.ctx.state.props.call_id}/{self.dial_count}".encode()
        h = hashlib.md5(seed).hexdigest()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# -- attribute parsing (kzt_twiml_util) -------------------------------------------
def to_integer(value: str) -> int:
    """kz_term:to_integer on a string: an integer, or a float rounded; anything else crashes."""
    try:
        return int(value, 10) if value.lstrip("-").isdigit() else _round(float(value))
    except (ValueError, OverflowError):
        raise ValueError(value) from None


def _round(f: float) -> int:
    if math.isnan(f) or math.isinf(f):
        raise ValueError(f)
    return int(math.floor(f + 0.5)) if f >= 0 else -int(math.floor(-f + 0.5))


def int_attr(el: Element, name: str, default: int | None) -> int | None:
    value = el.attrs.get(name)
    if value is None:
        return default
    try:
        return to_integer(value)
    except ValueError:
        raise TwimlError(
            "twiml.bad_attribute",
            f"{el.tag} {name}={value!r} is not an integer: kz_term:to_integer crashes",
        ) from None


def timeout_s(el: Element, default: int) -> int:
    n = int_attr(el, "timeout", default)
    assert n is not None
    if n > 3600:
        return 3600
    if n > 0:
        return n
    raise TwimlError(
        "twiml.bad_attribute",
        f'<{el.tag} timeout="{el.attrs.get("timeout")}">: Kazoo needs a timeout above 0 '
        "(kzt_twiml_util:timeout_s has no clause for it)",
    )


def loop_count(el: Element) -> int:
    n = int_attr(el, "loop", 1)
    assert n is not None
    if n < 0:
        raise TwimlError(
            "twiml.bad_attribute", f'<{el.tag} loop="{n}">: a negative loop crashes Kazoo'
        )
    return n


def is_true(el: Element, name: str, default: bool) -> bool:
    """props:is_true / get_is_true: only the exact string "true" is true."""
    value = el.attrs.get(name)
    return default if value is None else value == "true"


def terminators(value: str | None) -> tuple[str, ...]:
    """kapi_dialplan:terminators: absent means every digit; otherwise its DTMF characters."""
    if value is None:
        return ALL_DIGITS
    return tuple(c for c in value if c in ALL_DIGITS)


def note_ignored(run: TwimlRun, el: Element) -> None:
    for name, (level, why) in _IGNORED.get(el.tag, {}).items():
        if name in el.attrs:
            run.diag(
                level, "twiml.ignored_attribute", f'<{el.tag} {name}="{el.attrs[name]}">: {why}'
            )


# -- the dispatcher --------------------------------------------------------------
def unknown_element(el: Element, why: str = "") -> TwimlError:
    tag = el.tag
    if why:
        text = why
    elif tag in _TWILIO_ONLY:
        text = (
            f"<{tag}> is a Twilio verb that Kazoo's TwiML does not implement ({_TWILIO_ONLY[tag]})"
        )
    elif tag in _NOUNS:
        text = f"<{tag}> is a noun: it only means something inside <Dial> (or <Set>/<Redirect> for Variable)"
    elif tag.lower() in {v.lower() for v in VERBS} and tag not in VERBS:
        right = next(v for v in VERBS if v.lower() == tag.lower())
        text = f"<{tag}> is not <{right}>: Kazoo's element names are case-sensitive"
    elif ":" in tag:
        text = f"<{tag}>: Kazoo's xmerl keeps namespace prefixes, so a prefixed name is never a TwiML verb"
    else:
        text = f"Kazoo's TwiML has no <{tag}> element"
    return TwimlError(
        "twiml.unknown_element",
        f"{text}; kzt_twiml throws unknown_element and ends the TwiML with an error",
    )


def exec_element(run: TwimlRun, el: Element) -> Outcome:
    tag = el.tag
    run.ctx.event("verb", verb=tag, path=run.ctx.node_path)
    if tag == "Record" and el.children:
        raise unknown_element(
            el,
            "<Record> must be empty (even whitespace inside it makes kzt_twiml "
            "fall through to its unknown-element clause)",
        )
    if tag == "Pause" and el.children:
        raise unknown_element(
            el,
            "<Pause> must be empty (even whitespace inside it makes kzt_twiml "
            "fall through to its unknown-element clause)",
        )
    if tag == "Hangup" and (el.children or el.attrs):
        raise unknown_element(
            el,
            "<Hangup> takes no attributes and no content; anything in it makes "
            "kzt_twiml fall through to its unknown-element clause",
        )
    fn = VERBS.get(tag)
    if fn is None:
        raise unknown_element(el)
    note_ignored(run, el)
    return fn(run, el)


# -- Say and Play ---------------------------------------------------------------------
def _voice(el: Element) -> str:
    v = el.attrs.get("voice")
    if v is None:
        return DEFAULT_VOICE
    if v in _VOICES:
        return _VOICES[v]
    habit = ""
    if v.startswith("Polly.") or v.startswith("Google."):
        habit = " (an Amazon Polly / Google voice of Twilio's)"
    elif v == "alice":
        habit = " (Twilio's legacy voice)"
    raise TwimlError(
        "twiml.say_voice",
        f'<Say voice="{v}">{habit} is not supported by Kazoo: kzt_twiml_util:get_voice only knows '
        "man, woman, male and female, so the Say crashes. Drop the voice attribute or use "
        'voice="woman"/"man"',
    )


def _language(el: Element) -> str:
    lang = el.attrs.get("language")
    if lang is None:
        return DEFAULT_LANGUAGE
    if lang in _LANGUAGES:
        return _LANGUAGES[lang]
    hint = ""
    low = lang.lower()
    if low in ("en-us", "en-au", "en-ca", "en-in"):
        hint = ' Use language="en" for US English.'
    elif low == "en-gb":
        hint = ' Write it in lowercase: language="en-gb".'
    elif low[:2] in ("es", "fr", "de", "it"):
        hint = f' Use language="{low[:2]}".'
    raise TwimlError(
        "twiml.say_language",
        f'<Say language="{lang}"> is not supported by Kazoo: kzt_twiml_util:get_lang only accepts '
        f"en, en-gb, es, fr, de and it (exactly), so Twilio's region codes crash the Say.{hint}",
    )


def _prompt_loops(
    run: TwimlRun, el: Element, loops: int, play_one: Any, nested: bool
) -> list[tuple[int, str]]:
    """Play ``loops`` times (0 = until the caller hangs up). Returns the DTMF pressed, with times."""
    ctx = run.ctx
    typed: list[tuple[int, str]] = []
    if loops == 0:
        run.diag(
            "warning",
            "twiml.endless_loop",
            f'<{el.tag} loop="0"> repeats until the caller hangs up; digits only stop the current '
            "repetition" + (" (inside a Gather the first digit stops it)" if nested else ""),
        )
    i = 0
    while True:
        start = ctx.now
        duration, digits = play_one()
        if digits:
            first = min(ctx.caller.caller.reaction_ms, max(0, duration - 1))
            gap = ctx.caller.caller.digit_interval_ms
            typed += [(start + first + k * gap, d) for k, d in enumerate(digits)]
            if nested:
                return typed
        i += 1
        if loops and i >= loops:
            return typed
        if loops == 0:
            nxt = ctx.caller.remaining[:1]
            if nested and nxt and isinstance(nxt[0], Press) and nxt[0].digits:
                # No input point ever comes: the caller presses over the repeating prompt.
                act = ctx.caller.at_input()
                assert isinstance(act, Press)
                gap = ctx.caller.caller.digit_interval_ms
                t0 = ctx.now + ctx.caller.caller.reaction_ms
                ctx.wait(ctx.caller.caller.reaction_ms)
                ctx.event("dtmf", digits=act.digits, during="prompt")
                ctx.wait(gap * (len(act.digits) - 1))
                return [(t0 + k * gap, d) for k, d in enumerate(act.digits)]
            if not nxt or not isinstance(nxt[0], (TypeAhead, Hangup)):
                room = ctx.clock.room()
                if room is None:
                    raise Endless(
                        f'<{el.tag} loop="0"> repeats forever and the caller never hangs up'
                    )
                ctx.event("prompt_repeats", verb=el.tag, until_ms=ctx.now + room)
                ctx.wait(room)  # raises CallerHungUp


def say(run: TwimlRun, el: Element, nested: bool = False) -> Any:
    ctx = run.ctx
    ctx.answer()
    raw = el.text()
    data = raw.encode("utf-8")
    if len(data) > TTS_SIZE_LIMIT:
        raw = data[:TTS_SIZE_LIMIT].decode("utf-8", "ignore")
        run.diag(
            "warning",
            "twiml.say_truncated",
            f"the <Say> text is {len(data)} bytes: Kazoo cuts it to pivot.tts_texts_size "
            f"({TTS_SIZE_LIMIT} bytes)",
        )
    if el.elements():
        names = ", ".join(sorted({f"<{c.tag}>" for c in el.elements()}))
        run.diag(
            "warning",
            "twiml.say_ssml",
            f"<Say> contains {names}: Kazoo keeps only the Say's own text, so SSML tags are "
            "dropped together with the words inside them",
        )
    if el.has_cdata():
        run.diag(
            "warning",
            "twiml.cdata_dropped",
            f"<{el.tag}> text inside <![CDATA[...]]> is dropped: kz_xml:texts_to_binary only keeps "
            "plain text nodes",
        )
    voice = _voice(el)
    lang = _language(el)
    engine = el.attrs.get("engine")
    terms = terminators(el.attrs.get("terminators"))
    loops = loop_count(el)
    if not raw:
        run.diag("warning", "twiml.say_empty", "<Say> has no text: the caller hears nothing")

    def one() -> tuple[int, str]:
        ms = ctx.tts_ms(raw) if raw else 0
        ctx.event("tts", voice=voice, language=lang, **({"engine": engine} if engine else {}))
        got = ctx.prompt(
            text=raw, duration_ms=ms, terminators=terms, source="Say", type_ahead=False
        )
        if got and not nested:
            run.add_digits(
                got
            )  # process_noop_event: DTMF during the prompt is kept for the next request
        return ms, got

    typed = _prompt_loops(run, el, loops, one, nested)
    return typed if nested else OK


def play(run: TwimlRun, el: Element, nested: bool = False) -> Any:
    ctx = run.ctx
    ctx.answer()
    url = el.text()
    terms = terminators(el.attrs.get("terminators"))
    loops = loop_count(el)
    if el.has_cdata():
        run.diag(
            "warning",
            "twiml.cdata_dropped",
            "<Play> text inside <![CDATA[...]]> is dropped: kz_xml:texts_to_binary only keeps plain text",
        )
    if not url:
        raise TwimlError(
            "twiml.play_empty",
            "<Play> has no URL: kzt_receiver:play_loop returns {error, no_media}"
            + (
                " (Twilio's <Play digits=...> has no Kazoo equivalent)"
                if "digits" in el.attrs
                else ""
            ),
        )
    if "://" not in url and ("/" in url or url.rsplit(".", 1)[-1].lower() in ("mp3", "wav", "ogg")):
        run.diag(
            "warning",
            "twiml.play_relative",
            f"<Play>{url}</Play> is not an absolute URL: Kazoo does not resolve it against the "
            "document's URL (Twilio does), it hands it to FreeSWITCH as it is (a media id or "
            "a local path), so the caller likely hears nothing",
        )

    def one() -> tuple[int, str]:
        ms = ctx.media_ms(url)
        got = ctx.prompt(
            media=url, duration_ms=ms, terminators=terms, source="Play", type_ahead=False
        )
        if got and not nested:
            run.add_digits(got)
        return ms, got

    typed = _prompt_loops(run, el, loops, one, nested)
    return typed if nested else OK


# -- Pause, Hangup, Reject, Set, Redirect ------------------------------------------------
def pause(run: TwimlRun, el: Element) -> Outcome:
    run.ctx.answer()
    n = int_attr(el, "length", None)
    if n is None:
        ms = 1000
    elif n > 3600:
        ms = 3_600_000
    elif n > 0:
        ms = n * 1000
    else:
        raise TwimlError(
            "twiml.bad_attribute",
            f'<Pause length="{el.attrs["length"]}">: Kazoo needs a length above 0 '
            "(kzt_twiml_util:pause_for has no clause for it)",
        )
    run.ctx.event("pause", ms=ms)
    run.ctx.wait(ms)
    return OK


def hangup(run: TwimlRun, el: Element) -> Outcome:
    run.ctx.answer()
    run.set_call_status("completed")
    return Stop(run.ctx.end("hangup", "<Hangup/>", hangup_cause="NORMAL_CLEARING"))


_REJECT = {
    "rejected": (503, "no-answer", "NORMAL_TEMPORARY_FAILURE"),
    "busy": (486, "busy", "USER_BUSY"),
}


def reject(run: TwimlRun, el: Element) -> Outcome:
    ctx = run.ctx
    reason = el.attrs.get("reason", "rejected")
    if reason not in _REJECT:
        raise TwimlError(
            "twiml.bad_attribute",
            f'<Reject reason="{reason}">: Kazoo only knows rejected and busy '
            "(kzt_twiml_util:reject_reason has no clause for it)",
        )
    code, status, cause = _REJECT[reason]
    prompt = el.attrs.get("prompt")
    if prompt:
        ctx.prompt(
            media=prompt, duration_ms=ctx.media_ms(prompt), source="Reject", type_ahead=False
        )
    if ctx.state.answered:
        run.diag(
            "warning",
            "twiml.reject_answered",
            "<Reject> after the call was answered (an earlier verb answered it): Kazoo still sends "
            f"a SIP {code}, which an answered call cannot carry; the caller just hears a hangup",
        )
    run.set_call_status(status)
    ctx.event("sip_response", code=code, message=reason)
    if ctx.state.answered:
        return Stop(
            ctx.end("hangup", f'<Reject reason="{reason}"> on an answered call', hangup_cause=cause)
        )
    return Stop(
        ctx.end(
            "sip_response",
            f'<Reject reason="{reason}">: SIP {code}',
            sip_code=code,
            hangup_cause=cause,
        )
    )


def _variables(run: TwimlRun, parent: Element) -> None:
    for child in parent.elements():
        if child.tag != "Variable":
            run.diag(
                "info",
                "twiml.set_ignored",
                f"<{parent.tag}> ignores <{child.tag}>: only <Variable key=... value=.../> counts",
            )
            continue
        run.ctx.answer()
        key = child.attrs.get("key")
        value = child.attrs.get("value")
        if key is None:
            raise TwimlError(
                "twiml.bad_attribute",
                "<Variable> without a key: kz_json cannot store an undefined key (crash)",
            )
        if value is None:
            run.diag(
                "info",
                "twiml.variable_unset",
                f'<Variable key="{key}"/> has no value: Kazoo removes {key!r} from the user vars',
            )
        run.set_user_var(key, value)
        run.ctx.event("user_var_set", key=key, value=value)


def set_(run: TwimlRun, el: Element) -> Outcome:
    _variables(run, el)
    return OK


def redirect(run: TwimlRun, el: Element) -> Outcome:
    run.ctx.answer()
    target = el.text()
    _variables(run, el)
    if not target:
        run.diag(
            "warning",
            "twiml.redirect_empty",
            "<Redirect> has no URL: Kazoo requests the current URL again",
        )
    if "\t" in target[:1] + target[-1:]:
        run.diag(
            "warning",
            "twiml.url_whitespace",
            "the <Redirect> URL is indented with tabs: Kazoo trims only spaces and newlines, so the "
            "tabs become part of the URL",
        )
    url = run.resolve(el, target, "URL")
    return Request(url, run.method(el), "redirect", "Redirect")


# -- Gather ------------------------------------------------------------------------------
def _finish_key(el: Element) -> str | None:
    value = el.attrs.get("finishOnKey")
    if value is None:
        return "#"
    if value == "":
        return None
    if value in ALL_DIGITS:
        return value
    raise TwimlError(
        "twiml.bad_attribute",
        f'<Gather finishOnKey="{value}">: Kazoo wants exactly one key (0-9, * or #), or '
        '"" for none; anything else fails a match in kzt_twiml_util:finish_dtmf',
    )


def _num_digits(el: Element) -> int | None:
    n = int_attr(el, "numDigits", None)
    if n is None:
        return None
    if n > 0:
        return n
    raise TwimlError(
        "twiml.bad_attribute",
        f'<Gather numDigits="{el.attrs["numDigits"]}">: Kazoo needs numDigits above 0',
    )


class _GatherCrash(Exception):
    pass


def _run_nested(run: TwimlRun, el: Element) -> tuple[list[tuple[int, str]], Outcome | None]:
    """The Gather's nested verbs, run as kzt_twiml's separate process would run them."""
    ctx = run.ctx
    base = ctx.node_path
    counts: dict[str, int] = {}
    for child in el.elements():
        counts[child.tag] = counts.get(child.tag, 0) + 1
        ctx.node_path = f"{base}/{child.tag}[{counts[child.tag]}]"
        ctx.event("verb", verb=child.tag, path=ctx.node_path, nested_in="Gather")
        tag = child.tag
        try:
            if tag in ("Say", "Play"):
                note_ignored(run, child)
                typed = (say if tag == "Say" else play)(run, child, nested=True)
                if typed:
                    return typed, None
            elif tag == "Pause":
                if child.children:
                    raise unknown_element(child, "<Pause> must be empty")
                pause(run, child)
            elif tag == "Set":
                run.diag(
                    "warning",
                    "twiml.gather_set_lost",
                    "<Set> inside <Gather> runs in the Gather's own process, whose call record is "
                    "thrown away: these variables are never sent",
                )
                ctx.answer()
            elif tag == "Redirect":
                ctx.answer()
                run.diag(
                    "warning",
                    "twiml.gather_nested_request",
                    "<Redirect> inside <Gather>: the nested process has no use for a request, so "
                    "Kazoo drops it and skips the remaining nested verbs; the Gather keeps waiting",
                )
                return [], None
            elif tag == "Hangup":
                if child.children or child.attrs:
                    raise unknown_element(child, "<Hangup> takes nothing")
                return [], hangup(run, child)
            elif tag == "Reject":
                return [], reject(run, child)
            elif tag in ("Gather", "Record", "Dial"):
                run.diag(
                    "warning",
                    "twiml.gather_nested_unsupported",
                    f"<{tag}> inside <Gather>: Kazoo would run it in the Gather's background process "
                    "while the Gather collects digits; pivotsim does not simulate that and skips the "
                    "remaining nested verbs",
                )
                return [], None
            else:
                raise unknown_element(child)
        except TwimlError as exc:
            run.diag(
                "warning",
                "twiml.gather_nested_error",
                f"{exc.message}. Inside <Gather> the crash only kills the nested process: the "
                "remaining nested verbs are skipped and the Gather waits for digits in silence",
                path=ctx.node_path,
            )
            return [], None
    return [], None


def gather(run: TwimlRun, el: Element) -> Outcome:
    ctx = run.ctx
    kvs = ctx.state.kvs
    base_path = ctx.node_path
    typed: list[tuple[int, str]] = []
    if el.children:
        # Nested elements (even whitespace): clear the digits, run them in another process.
        before = kvs.get("digits_collected")
        if before:
            ctx.event(
                "digits_discarded", digits=before, reason="a Gather with nested verbs clears them"
            )
        kvs["digits_collected"] = ""
    # Kazoo starts the nested process, answers and reads the attributes at once: a bad
    # attribute ends the TwiML before the nested prompts are heard.
    ctx.answer()
    budget = timeout_s(el, 5) * 1000
    finish = _finish_key(el)
    n = _num_digits(el)
    if el.children:
        typed, stopped = _run_nested(run, el)
        ctx.node_path = base_path
        if stopped is not None:
            return stopped
    local = kvs.get("digits_collected")
    if not el.children and local is None and not ctx.options.faithful:
        ctx.event("intended_behaviour", what="<Gather/> starts from no digits instead of undefined")
        kvs["digits_collected"] = local = ""

    def step(d: str) -> str:
        """kzt_receiver:handle_dtmf for one digit: '' to go on, else why collection ended."""
        nonlocal local
        if finish is not None and d == finish:
            return "finish_key"
        if local is None:
            raise _GatherCrash()
        run.add_digits(d)
        local += d
        return "num_digits" if n is not None and len(local) == n else ""

    how = "num_digits" if isinstance(local, str) and n is not None and len(local) == n else ""
    deadline: int | None = None
    if typed and not how:
        # Barge-in: the first digit killed the nested verbs; the budget counts from it.
        deadline = typed[0][0] + budget
        for i, (t, d) in enumerate(typed):
            if t >= deadline:
                how = "timeout"
            else:
                how = step(d)
            if how:
                rest = "".join(x for _, x in typed[i + (0 if how == "timeout" else 1) :])
                if rest:
                    ctx.event(
                        "dtmf_ignored",
                        digits=rest,
                        reason=f"pressed after the Gather ended ({how})",
                    )
                break
    if not how:
        if deadline is None:
            deadline = ctx.now + budget  # the timer starts when the nested verbs are done
        act = ctx.caller.at_input()
        if isinstance(act, Hangup):
            ctx.hang_up_now(max(0, min(ctx.caller.caller.reaction_ms, deadline - ctx.now)))
        if isinstance(act, Press) and act.digits:
            t0 = ctx.now + ctx.caller.caller.reaction_ms
            gap = ctx.caller.caller.digit_interval_ms
            pressed = ""
            lost = ""
            try:
                for i, d in enumerate(act.digits):
                    t = t0 + i * gap
                    if t >= deadline:
                        lost = act.digits[i:]
                        break
                    ctx.wait(t - ctx.now)
                    pressed += d
                    how = step(d)
                    if how:
                        lost = act.digits[i + 1 :]
                        break
            except _GatherCrash:
                ctx.event("dtmf", digits=pressed, during="Gather")
                raise TwimlError(
                    "twiml.gather_bare_crash",
                    "<Gather/> with no nested verbs does not clear the digits, which are undefined after "
                    "a request: the first digit other than the finish key crashes Kazoo (a binary append "
                    "on undefined), which ends the TwiML. Put a <Say>, <Play> or <Pause> inside the Gather",
                ) from None
            if pressed:
                ctx.event("dtmf", digits=pressed, during="Gather")
            if lost and how:
                ctx.event(
                    "dtmf_ignored", digits=lost, reason=f"pressed after the Gather ended ({how})"
                )
            elif lost:
                ctx.event(
                    "dtmf_ignored",
                    digits=lost,
                    reason="the Gather's total timeout ran out before these were pressed",
                )
                run.diag(
                    "warning",
                    "twiml.gather_total_timeout",
                    f"the caller's digits {lost!r} came after the Gather's timeout of {budget // 1000} s: "
                    "Kazoo's timeout is a total budget counted from the end of the prompts (or the "
                    "first digit), not Twilio's gap between digits",
                )
        if not how:
            ctx.wait(max(0, deadline - ctx.now))
            how = "timeout"
    value = kvs.get("digits_collected")
    ctx.event("collected", collection="Digits", verb="Gather", digits=value, how=how)
    if value == "":
        run.diag(
            "info",
            "twiml.gather_no_input",
            "the Gather ended with no digits: Kazoo makes no request (it never sends Digits=TIMEOUT, "
            "whatever its docs and samples say) and runs the next verb",
        )
        return OK
    if value is None:
        run.diag(
            "warning",
            "twiml.gather_bare_timeout",
            "<Gather/> with no nested verbs ended with its digits undefined (not empty): Kazoo "
            "counts that as input and requests the action anyway, with no Digits (a Kazoo bug)",
        )
    url = run.resolve(el, el.attrs.get("action"), "action")
    return Request(url, run.method(el), "twiml_action", "Gather")


# -- Record --------------------------------------------------------------------------------
def _max_length(el: Element) -> int:
    n = int_attr(el, "maxLength", None)
    if n is None:
        return MAX_RECORD_S
    if 0 < n <= MAX_RECORD_S:
        return n
    raise TwimlError(
        "twiml.bad_attribute",
        f'<Record maxLength="{el.attrs["maxLength"]}">: Kazoo accepts 1 to {MAX_RECORD_S} s '
        "(kzt_twiml max_length)",
    )


def record(run: TwimlRun, el: Element) -> Outcome:
    ctx = run.ctx
    kvs = ctx.state.kvs
    silence_s = timeout_s(el, 5)
    terms = terminators(el.attrs.get("finishOnKey"))
    max_s = _max_length(el)
    media = f"call_recording_{ctx.state.props.call_id}.mp3"
    if is_true(el, "playBeep", True):
        ctx.event("beep", frequency_hz=440, on_ms=500, off_ms=100)
        ctx.wait(BEEP_MS)
    start = ctx.now
    ctx.event(
        "record_start",
        media=media,
        max_length_s=max_s,
        silence_timeout_s=silence_s,
        finish_on_key="".join(terms),
    )
    limit = max_s * 1000
    terminator: str | None = None
    by_silence = False
    hung = False
    try:
        act = ctx.caller.at_input()
        if isinstance(act, Hangup):
            ctx.wait(min(RECORD_TALK_MS, limit))
            hung = True
        elif isinstance(act, Press) and act.digits:
            talk = min(RECORD_TALK_MS, limit)
            ctx.wait(talk)
            if talk < limit:
                d = act.digits[0]
                ctx.event("dtmf", digits=d, during="Record")
                if d in terms:
                    terminator = d
                else:
                    ctx.event("dtmf_ignored", digits=d, reason="not a finishOnKey of the Record")
                    ctx.wait(min(silence_s * 1000, limit - talk))
                    by_silence = talk + silence_s * 1000 <= limit
        else:
            ctx.wait(min(silence_s * 1000, limit))
            by_silence = silence_s * 1000 <= limit
    except CallerHungUp:
        hung = True
    if hung:
        ctx.clock.hangup_at_ms = ctx.now
    length_s = (ctx.now - start) // 1000
    if by_silence and silence_s >= length_s and not hung:
        ctx.event("recorded", media=media, length_s=length_s, empty=True)
        run.diag(
            "info",
            "twiml.record_empty",
            f"the recording stopped on silence and lasted {length_s} s, no more than the "
            f"{silence_s} s silence timeout: Kazoo treats it as empty, makes no request and runs the "
            "next verb",
        )
        return OK
    digit = terminator or "hangup"
    kvs["digit_pressed"] = digit
    kvs["recording_duration"] = length_s
    ctx.event("recorded", media=media, length_s=length_s, empty=False, digits=digit)
    if digit == "hangup" and not hung:
        run.diag(
            "info",
            "twiml.record_digits_hangup",
            "the recording ended without a finish key (silence or maxLength): Kazoo still sends "
            "Digits=hangup, as if the caller had hung up",
        )
    url = run.resolve(el, el.attrs.get("action"), "action")
    method = run.method(el)
    target = el.attrs.get("recordingUrl", url)
    if target and target.startswith(("http://", "https://")):
        store = target.rstrip("/") + "/" + media
        _upload(run, store, length_s)
        kvs["recording_url"] = store
        if "recordingUrl" not in el.attrs:
            run.diag(
                "info",
                "twiml.record_stored_under_action",
                f"the recording is PUT to {store}: with no recordingUrl Kazoo stores the file under "
                "the action URL (Twilio keeps it on api.twilio.com)",
            )
    else:
        run.diag(
            "info",
            "twiml.record_not_stored",
            f"recordingUrl={target!r} is not an http(s) URL: Kazoo does not store the recording and "
            "sends no RecordingUrl",
        )
    end = ctx.end("caller_hangup", "the caller hung up during <Record>") if hung else None
    return Request(url, method, "twiml_action", "Record", then_end=end)


def _upload(run: TwimlRun, url: str, length_s: int) -> None:
    """The switch PUTs the file (kapps_call_command:store): the server sees it like Kazoo's would."""
    ctx = run.ctx
    body = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64  # a token mp3, not real audio
    req = HTTPRequest("PUT", url, {"Content-Type": "audio/mpeg"}, body, run.session.timeout_ms)
    try:
        resp = ctx.transport.handle(req)
    except TransportError as exc:
        ctx.event(
            "recording_upload", url=url, method="PUT", status=None, error=f"{exc.kind}: {exc}"
        )
        run.diag(
            "warning",
            "twiml.record_upload_failed",
            f"the recording upload (PUT {url}) got no reply ({exc.kind}): RecordingUrl will point to "
            "a file that does not exist",
        )
        return
    ctx.event("recording_upload", url=url, method="PUT", status=resp.status, length_s=length_s)
    if not 200 <= resp.status < 300:
        run.diag(
            "warning",
            "twiml.record_upload_failed",
            f"the recording upload (PUT {url}) got HTTP {resp.status}: on Kazoo RecordingUrl would "
            "point to a file that does not exist. Accept PUT there or give <Record> a recordingUrl",
        )


def dial(run: TwimlRun, el: Element) -> Outcome:
    from ._twiml_dial import dial as _dial

    return _dial(run, el)


VERBS: dict[str, Any] = {
    "Say": say,
    "Play": play,
    "Gather": gather,
    "Record": record,
    "Dial": dial,
    "Redirect": redirect,
    "Pause": pause,
    "Hangup": hangup,
    "Reject": reject,
    "Set": set_,
}
