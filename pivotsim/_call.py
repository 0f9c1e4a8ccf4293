"""Who is calling whom: the call's properties, and the state Kazoo keeps while it runs."""

from __future__ import annotations

import copy
import functools
import random
from dataclasses import dataclass, field, fields, replace
from typing import Any

__all__ = ["CallProperties", "CallState"]

_FAKER: Any = None


def _faker(seed: int) -> Any:
    """One Faker for the process, reseeded per call: building one costs milliseconds."""
    global _FAKER
    if _FAKER is None:
        from faker import Faker

        _FAKER = Faker("en_US")
    _FAKER.seed_instance(seed)
    return _FAKER


_OWN = ("account_id", "call_id", "caller_id_name", "caller_id_number", "from_realm", "to_realm", "request_realm")


@functools.lru_cache(maxsize=4096)
def _generated_cached(seed: int) -> tuple[tuple[str, str], ...]:
    fake = _faker(seed)
    rng = random.Random(seed)
    realm = f"{fake.domain_word()}.sip.{fake.domain_name()}"
    # 555-01xx numbers are reserved for fiction in the NANP: realistic, never real.
    values = {
        "account_id": "%032x" % rng.getrandbits(128),
        "call_id": f"{rng.getrandbits(64):016x}-{rng.getrandbits(32):08x}@{fake.ipv4_private()}",
        "caller_id_name": fake.name(),
        "caller_id_number": f"+1{rng.randint(201, 989)}55501{rng.randint(0, 99):02d}",
        "dialled": f"+1{rng.randint(201, 989)}55501{rng.randint(0, 99):02d}",
        "from_realm": realm,
        "to_realm": realm,
        "request_realm": realm,
    }
    return tuple(values.items())


def _generated(seed: int) -> dict[str, str]:
    """Seeded call properties; cached, since Faker costs about a millisecond a call."""
    return dict(_generated_cached(seed))


@dataclass(frozen=True)
class CallProperties:
    """What Kazoo knows about the call when it reaches the first pivot node.

    Fields left as ``None`` are filled by :meth:`resolved` with realistic values drawn
    from a seeded Faker, so the same seed always gives the same call. An empty
    string for ``caller_id_name`` means the caller sent none: the field is then
    left out of the request, as Kazoo does.
    """

    account_id: str | None = None
    call_id: str | None = None
    caller_id_name: str | None = None
    caller_id_number: str | None = None
    from_user: str | None = None
    from_realm: str | None = None
    to_user: str | None = None
    to_realm: str | None = None
    request_user: str | None = None
    request_realm: str | None = None
    language: str | None = "en-us"
    custom_application_vars: dict[str, Any] = field(default_factory=dict)
    custom_sip_headers: dict[str, Any] = field(default_factory=dict)
    user_ids: tuple[str, ...] = ()
    seed: int = 0

    def resolved(self) -> CallProperties:
        """Fill every unset field from the seed; explicit values always win."""
        values = _generated(self.seed)
        out: dict[str, Any] = {k: v for k, v in values.items() if k in _OWN and getattr(self, k) is None}
        number = self.caller_id_number if self.caller_id_number is not None else values["caller_id_number"]
        to = self.to_user if self.to_user is not None else (self.request_user or values["dialled"])
        if self.from_user is None:
            out["from_user"] = number or values["caller_id_number"]
        if self.to_user is None:
            out["to_user"] = to
        if self.request_user is None:
            out["request_user"] = to
        return replace(self, **out)

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["user_ids"] = list(self.user_ids)
        return out


class CallState:
    """Everything Kazoo's call record and KVS hold that changes what Pivot sees.

    ``dtmf_collections`` stays ``None`` until a collect_dtmf or type-ahead creates
    it: Kazoo only sends ``Digits`` once the KVS key exists.
    """

    def __init__(self, props: CallProperties) -> None:
        self.props = props
        self.cavs: dict[str, Any] = copy.deepcopy(props.custom_application_vars)
        self.sip_headers: dict[str, Any] = dict(props.custom_sip_headers)
        self.language: str | None = props.language
        self.dtmf_collections: dict[str, str] | None = None
        self.answered = False
        self.kvs: dict[str, Any] = {}
        self.user_vars: dict[str, Any] = {}

    def add_type_ahead(self, digits: str) -> None:
        """Digits pressed during a prompt land in the ``default`` collection (cf_util)."""
        cols = self.dtmf_collections if self.dtmf_collections is not None else {}
        cols["default"] = cols.get("default", "") + digits
        self.dtmf_collections = cols
