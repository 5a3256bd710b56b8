"""The limits of the contract, one annotated type for each: what a producer may send is what a consumer can store.

Every string has a maximum length the database column that keeps it can hold (or, for text kept in JSON or
not stored, a generous cap), and no NUL character (PostgreSQL's text and jsonb refuse it). Times lie between
1970 and 2199, floats are finite, integers fit their columns, dicts and lists have a maximum size. The JSON
Schemas in contracts/ carry the same limits, so a producer reads them there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, PlainValidator, WithJsonSchema

NO_NUL = "^[^\\u0000]*$"
"""The JSON Schema pattern of a string without a NUL character (\\u0000)."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
# The schema's pattern asks for a time written with a year from 1970 to 2199, in any UTC offset. The model checks
# the instant, with the widest offset (14 hours) as slack on each side: whatever the schema lets in, the model
# takes, and a time the model took is still taken once lead_scoring writes it again in UTC (1970-01-01T00:00+14:00
# is 1969-12-31T10:00Z). Either way, far from the year 9999 where date arithmetic overflows.
_OFFSET_SLACK = timedelta(hours=14)
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Lengths by what keeps the value: a column's varchar size, or a cap for text kept in JSON or not stored.
SYSTEM = 50  # contact_external_id.system, touch.source_system
SHORT = 64  # touch.channel, codes
LABEL = 200  # touch.campaign, touch.content_id, account.external_id, user names, definition names
EXTERNAL_ID = 300  # contact_external_id.value
COMPANY = 300  # account.name
ACCOUNT_KEY = 320  # account.key, outbox.key
DOMAIN = 253  # a DNS name; account.domain is 255
ATTRIBUTE = 1000  # a contact attribute (kept in JSON): names, titles, custom values
FREE_TEXT = 10_000  # a form answer or property, not stored
URL = 8192  # touch.url is text; browsers and servers refuse longer URLs long before this
NOTE = 65536  # free text (notes, explanations): text columns, capped at 64 KiB

MAX_ITEMS = 200  # entries of a dict of properties or custom fields, items of a list sent in
MAX_TAGS = 100
MAX_DEPTH = 32  # nesting of a free-form JSON document


def refuse_nul(value: str) -> str:
    """`value` unchanged, or ValueError if it holds a NUL character (PostgreSQL's text and jsonb refuse it)."""
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000): PostgreSQL cannot store it")
    return value


TIME_BOUNDS = (EARLIEST - _OFFSET_SLACK, LATEST + _OFFSET_SLACK)
"""The first and last instant a time of the contract may name (the schema's years, with the widest offset)."""


def check_time_range(value: datetime) -> datetime:
    """`value` unchanged, or ValueError if it lies outside `TIME_BOUNDS`."""
    if not TIME_BOUNDS[0] <= value <= TIME_BOUNDS[1]:
        raise ValueError(f"must be between {_iso(EARLIEST)} and {_iso(LATEST)} (got {value.isoformat()})")
    return value


def _in_date_range(value: date) -> date:
    if not EARLIEST.year <= value.year <= LATEST.year:
        raise ValueError(f"must be between {EARLIEST.date()} and {LATEST.date()} (got {value.isoformat()})")
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


_NUL_FREE = AfterValidator(refuse_nul)
_NUL_FREE_SCHEMA = Field(json_schema_extra={"pattern": NO_NUL})

Text50 = Annotated[str, Field(max_length=SYSTEM), _NUL_FREE, _NUL_FREE_SCHEMA]
Text64 = Annotated[str, Field(max_length=SHORT), _NUL_FREE, _NUL_FREE_SCHEMA]
Text200 = Annotated[str, Field(max_length=LABEL), _NUL_FREE, _NUL_FREE_SCHEMA]
Text253 = Annotated[str, Field(max_length=DOMAIN), _NUL_FREE, _NUL_FREE_SCHEMA]
Text300 = Annotated[str, Field(max_length=EXTERNAL_ID), _NUL_FREE, _NUL_FREE_SCHEMA]
Text320 = Annotated[str, Field(max_length=ACCOUNT_KEY), _NUL_FREE, _NUL_FREE_SCHEMA]
Text1000 = Annotated[str, Field(max_length=ATTRIBUTE), _NUL_FREE, _NUL_FREE_SCHEMA]
Text2048 = Annotated[str, Field(max_length=2 * ATTRIBUTE + 48), _NUL_FREE, _NUL_FREE_SCHEMA]
Url = Annotated[str, Field(max_length=URL), _NUL_FREE, _NUL_FREE_SCHEMA]
Note = Annotated[str, Field(max_length=NOTE), _NUL_FREE, _NUL_FREE_SCHEMA]
"""Strings by the largest length their column (or cap) holds; none may contain a NUL character."""

Name50 = Annotated[Text50, Field(min_length=1)]
Name200 = Annotated[Text200, Field(min_length=1)]
Name300 = Annotated[Text300, Field(min_length=1)]
"""The same, where an empty string means nothing."""

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
"""A float that is a number: NaN and ±Infinity are refused (JSON cannot carry them; Python's parser can)."""

Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""Integers that fit the 32-bit integer columns counts and versions are kept in."""

TIME_RANGE = (
    f"Between {_iso(EARLIEST)} and {_iso(LATEST)} (formatMinimum/formatMaximum): written with a year from "
    f"{EARLIEST.year} to {LATEST.year}, in any UTC offset (the instant may thus be up to 14 hours outside)."
)

EventTime = Annotated[
    AwareDatetime,
    AfterValidator(check_time_range),
    Field(
        json_schema_extra={
            "formatMinimum": _iso(EARLIEST),
            "formatMaximum": _iso(LATEST),
            # Validators that do not know formatMinimum/formatMaximum still refuse the year 9999 or 1969.
            "pattern": "^(19[7-9][0-9]|2[01][0-9][0-9])-",
            "$comment": TIME_RANGE,
        }
    ),
]
"""A timezone-aware time written with a year from 1970 to 2199 (1970-01-01T00:00:00Z to 2199-12-31T23:59:59Z)."""

EventDate = Annotated[
    date,
    AfterValidator(_in_date_range),
    Field(
        json_schema_extra={
            "formatMinimum": EARLIEST.date().isoformat(),
            "formatMaximum": LATEST.date().isoformat(),
            "pattern": "^(19[7-9][0-9]|2[01][0-9][0-9])-",
        }
    ),
]
"""A calendar date between 1970-01-01 and 2199-12-31."""

Scalar = str | int | float | bool | None


def _scalar(max_length: int) -> Callable[[object], Scalar]:
    """The check of a scalar value, one clear reason per kind of value (a union would list every member's)."""

    def check(value: object) -> Scalar:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str):
            if len(value) > max_length:
                raise ValueError(f"text must have at most {max_length} characters (got {len(value)})")
            return refuse_nul(value)
        if isinstance(value, int):
            # Beyond 64 bits a number is kept as a float, as the schema's "number" allows.
            return (
                value
                if -INT64_MAX - 1 <= value <= INT64_MAX
                else _finite(float(value) if value.bit_length() < 1024 else math.inf)
            )
        if isinstance(value, float):
            return _finite(value)
        raise ValueError(f"must be text, a number, a boolean or null (got {type(value).__name__})")

    return check


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {value})")
    return value


def _scalar_schema(max_length: int) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "maxLength": max_length, "pattern": NO_NUL},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "null"},
        ]
    }


JsonScalar = Annotated[Scalar, PlainValidator(_scalar(ATTRIBUTE)), WithJsonSchema(_scalar_schema(ATTRIBUTE))]
"""A value of a custom field: text of at most 1000 characters, a finite number, a boolean or null."""


def _bounded_dict_schema(key_length: int, value: dict[str, Any], items: int) -> dict[str, Any]:
    return {
        "type": "object",
        "maxProperties": items,
        "propertyNames": {"maxLength": key_length, "pattern": NO_NUL},
        "additionalProperties": value,
    }


CustomFields = Annotated[
    dict[Text200, JsonScalar],
    Field(max_length=MAX_ITEMS),
    WithJsonSchema(_bounded_dict_schema(LABEL, _scalar_schema(ATTRIBUTE), MAX_ITEMS)),
]
"""A contact's other fields, kept with its attributes: at most 200, names of at most 200 chars, text of 1000."""

PropertyValue = Annotated[Scalar, PlainValidator(_scalar(FREE_TEXT)), WithJsonSchema(_scalar_schema(FREE_TEXT))]
"""A property of a touch (not stored): like a custom field, but a form's free-text answer may be 10000 long."""

Properties = Annotated[
    dict[Text200, PropertyValue],
    Field(max_length=MAX_ITEMS),
    WithJsonSchema(_bounded_dict_schema(LABEL, _scalar_schema(FREE_TEXT), MAX_ITEMS)),
]
"""Properties of a touch (form fields, UTM parameters): at most 200, names of at most 200 chars, text of 10000."""

SystemIds = Annotated[
    dict[Text50, Annotated[Text300, Field(min_length=1)]],
    Field(max_length=50),
    WithJsonSchema(
        _bounded_dict_schema(
            SYSTEM, {"type": "string", "minLength": 1, "maxLength": EXTERNAL_ID, "pattern": NO_NUL}, 50
        )
    ),
]
"""Ids by system name, as contact_external_id keeps them: system at most 50 chars, id 1 to 300, 50 systems."""

Tags = Annotated[list[Text200], Field(max_length=MAX_TAGS)]
"""Tags of content: at most 100 of at most 200 characters each."""

Phrases = Annotated[list[Text1000], Field(max_length=MAX_ITEMS)]
"""Short texts in someone's words (pain points): at most 200 of at most 1000 characters each."""


def _plain_json(value: Any, depth: int = 0) -> Any:
    """Refuse NUL characters anywhere in a free-form JSON document, and nesting deeper than MAX_DEPTH."""
    if depth > MAX_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        refuse_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(str(key))
            _plain_json(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _plain_json(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must not contain NaN or Infinity")
    return value


JsonDocument = Annotated[dict[str, Any], AfterValidator(_plain_json)]
"""A free-form JSON object (a lead definition document): no NUL character anywhere, at most 32 levels deep."""
