"""Crossbar's error catalogue: every failure is a CrossbarError carrying Kazoo's exact triple.

The envelope renders ``error`` (the HTTP code as a string), ``message`` (Kazoo's error
id or text) and ``data``. Keeping the catalogue here, away from the views, is what lets
every route answer a given mistake with the same bytes Kazoo would.
"""

from __future__ import annotations

from typing import Any

MAX_UPLOAD_SIZE = 8_000_000


class CrossbarError(Exception):
    """An error response. ``body=False`` is the one bodiless case (Cowboy's 415)."""

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        *,
        headers: dict[str, str] | None = None,
        body: bool = True,
    ) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message
        self.data = {} if data is None else data
        self.headers = headers or {}
        self.body = body


class ValidationErrors:
    """Kazoo's flat validation-error object: ``{"a.b.c": {"<code>": {details}}}``.

    Each new error is merged over the collected ones at the top level, so only the
    *last* error for a dotted path survives, whatever its code (cb_context add_validation_error).
    """

    __slots__ = ("errors",)

    def __init__(self) -> None:
        self.errors: dict[str, dict[str, Any]] = {}

    def add(self, path: tuple[Any, ...] | list[Any] | str, code: str, details: dict[str, Any]) -> None:
        key = path if isinstance(path, str) else dotted(path)
        self.errors[key] = {code: details}

    def update(self, flat: dict[str, dict[str, Any]]) -> None:
        for key, value in flat.items():
            self.errors[key] = value

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise validation_error(self.errors)


def dotted(path: tuple[Any, ...] | list[Any]) -> str:
    """Join a key path with ``.``; a literal ``.`` inside a key becomes ``%2E``."""
    return ".".join(str(p).replace(".", "%2E") for p in path)


# -- the catalogue (crossbar-facts 1.7) ------------------------------------------------


def validation_error(errors: dict[str, Any]) -> CrossbarError:
    return CrossbarError(400, "validation error", errors)


def single_validation(path: str, code: str, details: dict[str, Any]) -> CrossbarError:
    return validation_error({path: {code: details}})


def invalid_json(message: str) -> CrossbarError:
    return single_validation("json", "invalid", {"message": message, "target": "body"})


def too_large() -> CrossbarError:
    msg = f"Payload or Files must not be more than {MAX_UPLOAD_SIZE} bytes"
    return single_validation("file", "maxSize", {"message": msg, "target": MAX_UPLOAD_SIZE})


def gone_v1() -> CrossbarError:
    msg = "API version 1 is not supported. Please upgrade your code to use version 2."
    return CrossbarError(410, "gone", {"message": msg})


def invalid_credentials() -> CrossbarError:
    """No accepted credential, or bad user_auth credentials (the system-error form)."""
    return CrossbarError(401, "invalid_credentials", {"message": "invalid credentials"})


def token_rejected() -> CrossbarError:
    """An expired or unknown token (crossbar_util:response_401: a space, and empty data)."""
    return CrossbarError(401, "invalid credentials", {})


def forbidden(message: str = "forbidden") -> CrossbarError:
    return CrossbarError(403, "forbidden", {"message": message})


def bad_identifier(doc_id: str) -> CrossbarError:
    return CrossbarError(404, "bad_identifier", {"cause": doc_id, "message": "bad identifier"})


def invalid_account_id(raw: str) -> CrossbarError:
    return CrossbarError(404, "bad identifier", {"message": f"invalid account_id '{raw}'"})


def missing_account_id() -> CrossbarError:
    return CrossbarError(404, "bad identifier", {"message": "missing account_id"})


def unknown_api_key(api_key: str) -> CrossbarError:
    """crossbar_util:response_bad_identifier: note ``data`` is a JSON array."""
    return CrossbarError(404, "bad identifier", [api_key])


def not_found() -> CrossbarError:
    return CrossbarError(404, "not_found", {"message": "not found"})


def faulty_request(message: str) -> CrossbarError:
    return CrossbarError(404, "faulty_request", {"message": message})


def invalid_method() -> CrossbarError:
    return CrossbarError(405, "invalid_method", {"message": "method not allowed"})


def unsupported_media_type() -> CrossbarError:
    """Cowboy answers 415 itself, with no Kazoo body."""
    return CrossbarError(415, "", None, body=False)


def bad_request(message: str, data: Any) -> CrossbarError:
    """crossbar_util:response_400: a message and free-form data (the c2c whitelist miss)."""
    return CrossbarError(400, message, data)


def unknown_failure() -> CrossbarError:
    return CrossbarError(500, "unspecified_fault", {"message": "unknown failure"})
