"""Conditions of the lead definition: tests on contact and account attributes, and how they evaluate."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from functools import cached_property, lru_cache
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from events.catalog.common import ContactTraits

Scalar = str | bool | int | float
Attributes = Mapping[str, object]
# A condition as a function: what made it true ('field=value' strings), or None.
Test = Callable[[Attributes, "Attributes | None"], "tuple[str, ...] | None"]
# One field path's value, read from a contact and its account.
Getter = Callable[[Attributes, "Attributes | None"], object]

FIELD_PATTERN = r"^(contact|account)(\.[A-Za-z_][A-Za-z0-9_]*)+$"
CUSTOM = "custom"
NAMED_CONTACT_FIELDS = frozenset({*ContactTraits.model_fields, "email", "email_domain", "buying_role"})
"""The contact's own attributes (its traits, `custom` included, and what `contact_attributes` adds): a custom field
of the same name is shadowed by them and read only as `contact.custom.<name>`; any other custom field is read as
`contact.<name>`."""
OPERATORS = ("eq", "neq", "in", "range", "regex", "exists")


def _only_scalar(value: object) -> object:
    # One clear message instead of pydantic's one error per member of the union.
    if isinstance(value, str | bool | int | float):
        return value
    raise ValueError(f"must be a string, number or boolean (got {value!r})")


StrictScalar = Annotated[Scalar, BeforeValidator(_only_scalar)]
FieldPath = Annotated[
    str,
    Field(pattern=FIELD_PATTERN, description="An attribute: contact.<name> or account.<name>, e.g. account.industry."),
]


class DefinitionPart(BaseModel):
    """Base of every part of the lead definition: unknown fields are errors (a typo must not pass silently)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Range(DefinitionPart):
    """Bounds of a number, both inclusive; either may be left open."""

    min: float | None = Field(default=None, description="Lowest value that matches.")
    max: float | None = Field(default=None, description="Highest value that matches.")

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("needs `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` must be <= `max` (got {self.min:g} > {self.max:g})")
        return self


class Condition(DefinitionPart):
    """Either a group (`all` / `any` of conditions, or `not` one) or a test: `field` with exactly one operator."""

    all: list[Condition] | None = Field(default=None, min_length=1, description="True if every condition is.")
    any: list[Condition] | None = Field(default=None, min_length=1, description="True if one condition is.")
    not_: Condition | None = Field(
        default=None, alias="not", description="True if the condition is false (a missing value included)."
    )
    field: FieldPath | None = None
    eq: StrictScalar | None = Field(default=None, description="Equal (text ignores case).")
    neq: StrictScalar | None = Field(
        default=None,
        description="Has a value, and it is not equal (text ignores case); a missing value does not match: "
        "use `not` with `eq` for 'missing or different'.",
    )
    in_: list[StrictScalar] | None = Field(
        default=None, alias="in", min_length=1, description="Equal to one of (text ignores case)."
    )
    range: Range | None = Field(default=None, description="A number within bounds.")
    regex: str | None = Field(default=None, description="Text containing a match (re.search, ignoring case).")
    exists: bool | None = Field(default=None, description="true: has a non-empty value; false: has none.")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        operators = [name for name in OPERATORS if getattr(self, "in_" if name == "in" else name) is not None]
        groups = (("all", self.all), ("any", self.any), ("not", self.not_))
        shapes = [name for name, value in groups if value is not None]
        if self.field is not None or operators:
            shapes.append("field")
        if len(shapes) != 1:
            raise ValueError(f"needs exactly one of `all`, `any`, `not` or `field` (got {', '.join(shapes) or 'none'})")
        if shapes == ["field"]:
            if self.field is None:
                raise ValueError(f"`{operators[0]}` needs a `field` to test")
            if len(operators) != 1:
                got = ", ".join(operators) or "none"
                raise ValueError(f"`field` needs exactly one operator of {', '.join(OPERATORS)} (got {got})")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise ValueError(f"`regex` is not a valid regular expression: {exc} (got {self.regex!r})") from exc
        return self

    @cached_property
    def fields(self) -> frozenset[str]:
        """The field paths the condition reads: its result depends on nothing else."""
        if self.field is not None:
            return frozenset({self.field})
        if self.not_ is not None:
            return self.not_.fields
        return frozenset().union(*(part.fields for part in self.all or self.any or ()))

    @cached_property
    def roots(self) -> frozenset[str]:
        """What the condition reads: "contact", "account" or both."""
        return frozenset(path.split(".", 1)[0] for path in self.fields)

    @cached_property
    def account_only(self) -> bool:
        """True if the condition reads nothing of the contact: the same for all of an account's contacts."""
        return self.roots == {"account"}

    @cached_property
    def getters(self) -> tuple[Getter, ...]:
        """A `lookup` of each field the condition reads, in a fixed order."""
        return tuple(getter(path) for path in sorted(self.fields))

    @cached_property
    def test(self) -> Test:
        """The condition compiled to a function once: every touch scores the fit of its account's contacts."""
        return _compile(self)


_MISSING = object()
Evaluate = Callable[["Condition", Attributes, Attributes | None], tuple[str, ...] | None]


def lookup(path: str, contact: Attributes, account: Attributes | None) -> object:
    """The attribute a field path names, or a sentinel when it is absent (no account counts as absent)."""
    return getter(path)(contact, account)


@lru_cache(maxsize=1024)
def getter(path: str) -> Getter:
    """`lookup` of one path as a function, the path split once."""
    root, first, *rest = path.split(".")
    if root == "contact" and first == CUSTOM and rest and rest[0] not in NAMED_CONTACT_FIELDS:
        # One path per custom field (`contact.<name>`), as GET /v1/definitions/fields lists and warnings suggest:
        # a rule on the other spelling must not fire, or its hits and its warning would disagree.
        return _absent
    get = _account_field(first) if root == "account" else _contact_field(first)
    if not rest:
        return get

    def nested(contact: Attributes, account: Attributes | None) -> object:
        value = get(contact, account)
        for name in rest:
            if not isinstance(value, Mapping) or name not in value:
                return _MISSING
            value = value[name]
        return value

    return nested


def _absent(contact: Attributes, account: Attributes | None) -> object:
    return _MISSING


def _account_field(name: str) -> Getter:
    def get(contact: Attributes, account: Attributes | None) -> object:
        return _MISSING if account is None else account.get(name, _MISSING)

    return get


def _contact_field(name: str) -> Getter:
    if name in NAMED_CONTACT_FIELDS:
        # The hot path: a trait is one dict lookup, and a custom field of its name never stands in for it.
        def named(contact: Attributes, account: Attributes | None) -> object:
            return contact.get(name, _MISSING)

        return named

    def custom(contact: Attributes, account: Attributes | None) -> object:
        # Stored apart (attributes["custom"]) so that it never overwrites a trait. Contacts learned before that
        # hold it at the top level: read there when no newer value was stored apart.
        fields = contact.get(CUSTOM)
        if isinstance(fields, Mapping) and name in fields:
            return fields[name]
        return contact.get(name, _MISSING)

    return custom


def evaluate(condition: Condition, contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
    """What made the condition true, as 'field=value' strings; None if it is false."""
    return condition.test(contact, account)


class Results:
    """Conditions evaluated once per distinct value of the fields they read, which is all their result depends on.

    Contacts that look alike to a rule share its result: one title, one company's attributes, one email domain.
    The conditions must outlive the memo (keep their definition), as they are known by identity.
    """

    def __init__(self, size: int = 100_000) -> None:
        self._size = size
        self._results: dict[Hashable, tuple[str, ...] | None] = {}
        self._lock = threading.Lock()  # the consumer and the rescorer of a process share one

    def evaluate(self, condition: Condition, contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
        """`evaluate(condition, contact, account)`, remembered."""
        values = tuple(get(contact, account) for get in condition.getters)
        # Typed: values a rule tells apart stay apart (True == 1 == 1.0 in Python, not in a definition).
        key = (id(condition), values, tuple(map(type, values)))
        try:
            return self._results[key]
        except KeyError:
            pass
        except TypeError:  # a list or a mapping: evaluated, not remembered
            return condition.test(contact, account)
        result = condition.test(contact, account)
        with self._lock:
            if len(self._results) >= self._size:
                self._results.pop(next(iter(self._results)))  # the oldest entry
            self._results[key] = result
        return result

    def of_account(self) -> Evaluate:
        """`evaluate` for the contacts of one account: the conditions that read only the account, once."""
        once: dict[int, tuple[str, ...] | None] = {}

        def evaluate(condition: Condition, contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
            if not condition.account_only:
                return self.evaluate(condition, contact, account)
            if id(condition) not in once:
                once[id(condition)] = self.evaluate(condition, contact, account)
            return once[id(condition)]

        return evaluate


def _compile(condition: Condition) -> Test:
    if condition.all is not None:
        every = [part.test for part in condition.all]

        def all_of(contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
            matched: list[str] = []
            for test in every:
                found = test(contact, account)
                if found is None:
                    return None
                matched.extend(found)
            return tuple(dict.fromkeys(matched))  # a field tested twice is reported once

        return all_of
    if condition.any is not None:
        options = [part.test for part in condition.any]

        def any_of(contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
            for test in options:
                found = test(contact, account)
                if found is not None:
                    return found
            return None

        return any_of
    if condition.not_ is not None:
        inner, said = condition.not_.test, tuple(f"not {path}" for path in sorted(condition.not_.fields))

        def not_(contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
            return said if inner(contact, account) is None else None

        return not_
    assert condition.field is not None  # guaranteed by the validator
    field, exists, matches, get = condition.field, condition.exists, _matcher(condition), getter(condition.field)
    negated = condition.neq is not None

    def test(contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
        value = get(contact, account)
        present = value is not _MISSING and value is not None and value != "" and value != [] and value != ()
        if exists is not None:
            return (f"{field} {'present' if present else 'missing'}",) if present == exists else None
        if not present:
            return None
        # A list-valued attribute (e.g. tags) matches when one of its items does; for `neq`, when none is equal.
        candidates: Sequence[object] = value if isinstance(value, list | tuple) else (value,)
        if negated:
            return (f"{field}!={condition.neq}",) if all(matches(item) for item in candidates) else None
        for item in candidates:
            if matches(item):
                return (f"{field}={item}",)
        return None

    return test


def _matcher(condition: Condition) -> Callable[[object], bool]:
    """Whether one value passes the condition's operator, with its options prepared once."""
    if condition.eq is not None:
        expected = condition.eq
        return lambda item: same_value(item, expected)
    if condition.neq is not None:
        unwanted = condition.neq
        return lambda item: not same_value(item, unwanted)
    if condition.in_ is not None:
        texts = {option.casefold() for option in condition.in_ if isinstance(option, str)}
        others = [option for option in condition.in_ if not isinstance(option, str)]
        # Text equals text only (ignoring case); numbers and booleans as `same_value` says.
        return lambda item: (
            item.casefold() in texts if isinstance(item, str) else any(same_value(item, option) for option in others)
        )
    if condition.range is not None:
        low, high = condition.range.min, condition.range.max

        def within(item: object) -> bool:
            number = _number(item)
            return number is not None and (low is None or number >= low) and (high is None or number <= high)

        return within
    if condition.regex is not None:
        pattern = re.compile(condition.regex, re.IGNORECASE)
        return lambda item: isinstance(item, str) and pattern.search(item) is not None
    return lambda item: False


def same_value(left: object, right: object) -> bool:
    """Equality as people mean it in a definition: text ignores case, true is not 1, 50 equals 50.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return False


def _number(item: object) -> float | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, int | float):
        return float(item)
    if isinstance(item, str):
        # Form fields arrive as text: "250" is still a headcount.
        try:
            return float(item.strip())
        except ValueError:
            return None
    return None
