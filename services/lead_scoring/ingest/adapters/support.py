"""What every ingest adapter shares: precise errors, reading JSON with paths, times, ids, traits and event building."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from events.catalog.common import ContactTraits, ExternalIds
from events.envelope import EventData
from events.limits import JsonScalar
from events.registry import Event, new_event
from services.lead_scoring.matching.domain import EXTERNAL_ID_SYSTEMS, InvalidEmail, account_key, normalise_email

SOURCE = "lead_scoring"
M = TypeVar("M", bound=EventData)

# Fixed forever: changing it would give retried deliveries new ids and defeat deduplication.
INGEST_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:leadflow:ingest")


@dataclass(frozen=True)
class IngestError:
    """Why (part of) an ingest request was rejected: the field, as a path from the body's root, and the reason."""

    field: str
    message: str
    index: int | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ItemRejected(Exception):  # noqa: N818 - a rejection is an outcome, not a bug
    """One item cannot become events; `errors` are (field, message) pairs."""

    def __init__(self, field: str, message: str, *more: tuple[str, str]) -> None:
        super().__init__(f"{field}: {message}")
        self.errors = [(field, message), *more]


@dataclass(frozen=True)
class Item:
    """One item of a request (a CloudEvent, a Segment call, a Mautic webhook entry) and how to adapt it."""

    location: str
    index: int | None
    adapt: Callable[[], list[Event[Any]]]


def join(path: str, key: str | int) -> str:
    """`path` extended by an object key (`a.b`) or an array index (`a[2]`)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class Doc:
    """A JSON object being read together with its path, so that every error names the field."""

    def __init__(self, value: Mapping[str, Any], path: str) -> None:
        self.value = value
        self.path = path

    @classmethod
    def of(cls, value: object, path: str) -> Doc:
        """`value` as a Doc, or ItemRejected if it is not a JSON object."""
        # PHP encodes an empty associative array as []: Mautic sends [] for an empty object.
        if value == []:
            return cls({}, path)
        if not isinstance(value, dict):
            raise ItemRejected(path or "body", f"must be a JSON object (got {type(value).__name__})")
        return cls(value, path)

    def at(self, key: str) -> str:
        """The path of a key of this object."""
        return join(self.path, key)

    def get(self, key: str) -> Any:
        """The raw value of a key, None if absent."""
        return self.value.get(key)

    def obj(self, key: str) -> Doc | None:
        """The object under `key`, None if absent or null."""
        value = self.value.get(key)
        return None if value is None else Doc.of(value, self.at(key))

    def need(self, key: str) -> Doc:
        """The object under `key`, ItemRejected if absent."""
        found = self.obj(key)
        if found is None:
            raise ItemRejected(self.at(key), "is required")
        return found

    def obj_or_empty(self, key: str) -> Doc:
        """The object under `key`, an empty one if absent."""
        return self.obj(key) or Doc({}, self.at(key))

    def text(self, key: str) -> str | None:
        """The string (or integer id) under `key`, trimmed; None if absent or empty."""
        value = self.value.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise ItemRejected(self.at(key), f"must be a string (got {type(value).__name__})")
        return value.strip() or None if value else None

    def need_text(self, key: str) -> str:
        """The string (or integer id) under `key`, ItemRejected if absent or empty."""
        value = self.text(key)
        if value is None:
            raise ItemRejected(self.at(key), "is required")
        return value

    def scalars(self, *, skip: frozenset[str] = frozenset()) -> dict[str, JsonScalar]:
        """The keys with scalar values (nested objects and arrays are left out)."""
        return {
            key: value
            for key, value in self.value.items()
            if key not in skip and (value is None or isinstance(value, str | int | float | bool))
        }


def parse_time(value: object, field: str, *, naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 date-time with its offset; naive times only where the source documents them as UTC."""
    if not isinstance(value, str):
        raise ItemRejected(field, f"must be an ISO 8601 date-time string (got {type(value).__name__})")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ItemRejected(field, f"is not an ISO 8601 date-time (got {value!r})") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise ItemRejected(field, f"needs a UTC offset such as Z or +02:00 (got {value!r})")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def first_time(doc: Doc, keys: tuple[str, ...], received_at: datetime, *, naive_is_utc: bool = False) -> datetime:
    """The first of `keys` that holds a time; `received_at` only when the payload has none."""
    for key in keys:
        if doc.get(key):
            return parse_time(doc.get(key), doc.at(key), naive_is_utc=naive_is_utc)
    return received_at


def checked_email(value: object, field: str) -> str | None:
    """The email as sent (trimmed), None if absent, ItemRejected naming the field if it is not an address."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        normalise_email(value)  # type: ignore[arg-type]  # non-strings are reported by normalise_email
    except InvalidEmail as error:
        raise ItemRejected(field, str(error)) from None
    return str(value).strip()


def looks_like_email(value: str | None) -> bool:
    """Whether a user id is in fact an email address (some senders use the email as the user id)."""
    try:
        return bool(value) and "@" in str(value) and bool(normalise_email(str(value)))
    except InvalidEmail:
        return False


def is_pricing_page(url: str | None) -> bool:
    """Whether a URL or path is a pricing page (/pricing, /en/pricing/...): a buying signal of its own."""
    try:
        path = urlsplit(url).path if url and "://" in url else (url or "")
    except ValueError:  # not a URL at all (e.g. "http://[oops"): not a pricing page either
        return False
    return "pricing" in path.lower().strip("/").split("/")


def ingest_event_id(source_system: str, message_id: str, kind: str) -> uuid.UUID:
    """The same id for every delivery of one message: uuid5 over the source, its message id and the event kind."""
    return uuid.uuid5(INGEST_NAMESPACE, f"{source_system}\x1f{message_id}\x1f{kind}")


def identity_key(email: str | None, external_ids: ExternalIds, field: str) -> str:
    """The account key of a contact known by email or, for an anonymous visitor, by an id."""
    if email:
        return account_key(None, email)
    named = [getattr(external_ids, name) for name in ("segment_anonymous_id", *EXTERNAL_ID_SYSTEMS)]
    ids = named + [external_ids.other[system] for system in sorted(external_ids.other)]
    fallback = next((value for value in ids if value), None)
    if fallback is None:
        raise ItemRejected(field, "names no one: needs an email or an id of the contact")
    return account_key(None, None, anonymous_id=fallback)


def build(model: type[M], prefix: str, values: Mapping[str, Any]) -> M:
    """`values` validated as `model`; a failure names the field under `prefix` (e.g. `[0].data.traits`)."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        errors = [
            (join(prefix, ".".join(map(str, e["loc"]))), e["msg"].removeprefix("Value error, ")) for e in error.errors()
        ]
        raise ItemRejected(*errors[0], *errors[1:]) from None


def make_event(data: EventData, *, key: str, time: datetime, event_id: uuid.UUID) -> Event[Any]:
    """A leadflow event emitted by ingest (source lead_scoring), timed by the payload."""
    return new_event(data, key=key, time=time, source=SOURCE, event_id=event_id)


_COUNTRIES = {
    "united states": "US", "united states of america": "US", "usa": "US", "united kingdom": "GB", "uk": "GB",
    "great britain": "GB", "england": "GB", "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES",
    "espana": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
    "belgium": "BE", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "austria": "AT", "osterreich": "AT",
    "sweden": "SE", "norway": "NO", "denmark": "DK", "finland": "FI", "ireland": "IE", "portugal": "PT",
    "poland": "PL", "czech republic": "CZ", "czechia": "CZ", "canada": "CA", "mexico": "MX", "brazil": "BR",
    "australia": "AU", "new zealand": "NZ", "japan": "JP", "china": "CN", "india": "IN", "singapore": "SG",
    "south africa": "ZA", "israel": "IL", "united arab emirates": "AE",
}  # fmt: skip


def country_code(value: object) -> str | None:
    """The ISO 3166-1 alpha-2 code of a country given as a code or a common English name; None if unknown."""
    if not isinstance(value, str):
        return None
    folded = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    folded = " ".join(folded.casefold().split())
    if folded in _COUNTRIES:
        return _COUNTRIES[folded]
    return folded.upper() if re.fullmatch(r"[a-z]{2}", folded) else None


def headcount(value: object) -> int | None:
    """A company headcount from a number or a numeric string ("1,200"); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and len(value) <= 32 and re.fullmatch(r"\d[\d,. ]*", value.strip()):
        value = int(re.sub(r"[,. ]", "", value))
    return value if isinstance(value, int) and value >= 0 else None


_TEXT_TRAITS = ("first_name", "last_name", "title", "job_function", "seniority", "phone", "company", "industry")
_MORE_TEXT_TRAITS = ("city", "linkedin_url")


def contact_traits(values: Mapping[str, object], custom: dict[str, JsonScalar], prefix: str) -> ContactTraits:
    """ContactTraits from values named as its fields; a value that does not fit (country "Atlantis") goes to custom."""
    traits: dict[str, object] = {}
    for name in (*_TEXT_TRAITS, *_MORE_TEXT_TRAITS):
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            traits[name] = value.strip()
    for name, convert in (("employees", headcount), ("country", country_code)):
        raw = values.get(name)
        if raw is None or raw == "":
            continue
        converted = convert(raw)
        if converted is not None:
            traits[name] = converted
        elif isinstance(raw, str | int | float | bool):
            custom[name] = raw
    if isinstance(values.get("marketing_consent"), bool):
        traits["marketing_consent"] = values["marketing_consent"]
    return build(ContactTraits, prefix, {**traits, "custom": custom})
