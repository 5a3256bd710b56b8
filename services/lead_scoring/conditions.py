"""Conditions of the lead definition: tests on contact and account attributes, and how they evaluate."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Scalar = str | bool | int | float
Attributes = Mapping[str, object]

FIELD_PATTERN = r"^(contact|account)(\.[A-Za-z_][A-Za-z0-9_]*)+$"
OPERATORS = ("eq", "in", "range", "regex", "exists")


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
    """Either a group (`all` / `any` of conditions) or a test: `field` with exactly one operator."""

    all: list[Condition] | None = Field(default=None, min_length=1, description="True if every condition is.")
    any: list[Condition] | None = Field(default=None, min_length=1, description="True if one condition is.")
    field: FieldPath | None = None
    eq: StrictScalar | None = Field(default=None, description="Equal (text ignores case).")
    in_: list[StrictScalar] | None = Field(
        default=None, alias="in", min_length=1, description="Equal to one of (text ignores case)."
    )
    range: Range | None = Field(default=None, description="A number within bounds.")
    regex: str | None = Field(default=None, description="Text containing a match (re.search, ignoring case).")
    exists: bool | None = Field(default=None, description="true: has a non-empty value; false: has none.")

    @model_validator(mode="after")
    def _one_shape(self) -> Condition:
        operators = [name for name in OPERATORS if getattr(self, "in_" if name == "in" else name) is not None]
        shapes = [name for name, value in (("all", self.all), ("any", self.any)) if value is not None]
        if self.field is not None or operators:
            shapes.append("field")
        if len(shapes) != 1:
            raise ValueError(f"needs exactly one of `all`, `any` or `field` (got {', '.join(shapes) or 'none'})")
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


_MISSING = object()


def lookup(path: str, contact: Attributes, account: Attributes | None) -> object:
    """The attribute a field path names, or a sentinel when it is absent (no account counts as absent)."""
    root, *names = path.split(".")
    value: object = contact if root == "contact" else account
    for name in names:
        if not isinstance(value, Mapping) or name not in value:
            return _MISSING
        value = value[name]
    return value


def evaluate(condition: Condition, contact: Attributes, account: Attributes | None) -> tuple[str, ...] | None:
    """What made the condition true, as 'field=value' strings; None if it is false."""
    if condition.all is not None:
        matched: list[str] = []
        for part in condition.all:
            found = evaluate(part, contact, account)
            if found is None:
                return None
            matched.extend(found)
        return tuple(dict.fromkeys(matched))  # a field tested twice is reported once
    if condition.any is not None:
        for part in condition.any:
            found = evaluate(part, contact, account)
            if found is not None:
                return found
        return None
    assert condition.field is not None  # guaranteed by the validator
    return _test(condition, condition.field, lookup(condition.field, contact, account))


def _test(condition: Condition, field: str, value: object) -> tuple[str, ...] | None:
    present = value is not _MISSING and value is not None and value != "" and value != [] and value != ()
    if condition.exists is not None:
        if present == condition.exists:
            return (f"{field} {'present' if present else 'missing'}",)
        return None
    if not present:
        return None
    # A list-valued attribute (e.g. tags) matches when one of its items does.
    candidates: Sequence[object] = value if isinstance(value, list | tuple) else (value,)
    for item in candidates:
        if _item_matches(condition, item):
            return (f"{field}={item}",)
    return None


def _item_matches(condition: Condition, item: object) -> bool:
    if condition.eq is not None:
        return same_value(item, condition.eq)
    if condition.in_ is not None:
        return any(same_value(item, option) for option in condition.in_)
    if condition.range is not None:
        number = _number(item)
        low, high = condition.range.min, condition.range.max
        return number is not None and (low is None or number >= low) and (high is None or number <= high)
    if condition.regex is not None:
        return isinstance(item, str) and re.search(condition.regex, item, re.IGNORECASE) is not None
    return False


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
