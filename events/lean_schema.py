"""A lean twin of a pydantic core schema, for the decoder's fast path: the same types, with the Python checks
that are certain to pass taken out, or done in pydantic-core instead.

Decoding spends much of its time calling small Python functions from pydantic-core (one per string to refuse
a NUL character, one per time for its range, one per name for its minimum length). The twin leaves them out:

- `refuse_nul` goes, so the twin may only see bytes without the JSON escape of a NUL (`needs_nul_checks`);
  a raw NUL byte is no JSON at all, and both validators refuse it.
- `check_time_range` becomes pydantic-core's own `ge`/`le` on the time, a day inside the bounds.
- pydantic's Python `min_length` check on a string becomes pydantic-core's own `min_length`.

Each rule makes the twin at most as permissive as the original and leaves accepted values unchanged, so what
the twin accepts the original accepts with an equal result. What the twin refuses is decoded again by the
original, whose error is the one reported. A node no rule recognises is kept as it is: a pydantic upgrade that
renames something makes the twin slower, never wrong.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from pydantic_core import SchemaValidator

from events.limits import TIME_BOUNDS, check_time_range, refuse_nul

_NUL_ESCAPE = b"\\u0000"
# Times this close to a bound are left to the original check, whatever pydantic-core makes of their offset.
_TIME_MARGIN = timedelta(days=1)
# Keys of a core schema that hold values, not schemas: nothing in them is rewritten.
_NOT_SCHEMAS = frozenset({"metadata", "serialization", "default", "expected", "ctx", "config"})


def needs_nul_checks(raw: bytes) -> bool:
    """Whether a JSON document may hold a NUL character in a string (only its escape can put one there)."""
    return _NUL_ESCAPE in raw


def lean_validator(schema: Any) -> SchemaValidator:
    """A validator of the lean twin of `schema`, with validators of its own all the way down."""
    twin = lean(schema)
    with _prebuilt_validators_set_aside(_model_classes(twin)):
        return SchemaValidator(twin)


def lean(schema: Any) -> Any:
    """A copy of a core schema (or any part of one) with the rules above applied; the original is untouched."""
    if isinstance(schema, list):
        return [lean(item) for item in schema]
    if isinstance(schema, tuple):
        return tuple(lean(item) for item in schema)
    if not isinstance(schema, dict):
        return schema
    copied = {key: value if key in _NOT_SCHEMAS else lean(value) for key, value in schema.items()}
    if copied.get("type") == "function-after":
        return _without_python_check(copied)
    return copied


def _without_python_check(node: dict[str, Any]) -> dict[str, Any]:
    """A function-after node as a native check of its inner schema, where a rule knows the function."""
    function = node["function"].get("function")
    inner: dict[str, Any] = node["schema"]
    if function is refuse_nul:
        return inner
    if function is check_time_range and inner.get("type") == "datetime" and "ge" not in inner and "le" not in inner:
        return {**inner, "ge": TIME_BOUNDS[0] + _TIME_MARGIN, "le": TIME_BOUNDS[1] - _TIME_MARGIN}
    minimum = _min_length(function)
    if minimum is not None and inner.get("type") == "str":
        return {**inner, "min_length": max(minimum, inner.get("min_length", 0))}
    return node


def _min_length(function: Any) -> int | None:
    """The length pydantic's Python `min_length` check asks for, if `function` is that check."""
    if not isinstance(function, functools.partial) or function.args:
        return None
    if getattr(function.func, "__name__", None) != "min_length_validator" or set(function.keywords) != {"min_length"}:
        return None
    minimum = function.keywords["min_length"]
    return minimum if isinstance(minimum, int) else None


def _model_classes(schema: Any) -> set[type]:
    """The classes of every model node of a core schema."""
    if isinstance(schema, list | tuple):
        return {cls for item in schema for cls in _model_classes(item)}
    if not isinstance(schema, dict):
        return set()
    own = {schema["cls"]} if schema.get("type") == "model" else set()
    return own.union(*(_model_classes(value) for key, value in schema.items() if key not in _NOT_SCHEMAS))


@contextmanager
def _prebuilt_validators_set_aside(classes: set[type]) -> Iterator[None]:
    """While a validator is built, its model nodes are built from the twin's schema.

    pydantic-core takes a complete model class's own `__pydantic_validator__` for any model node with that class,
    whatever the node's schema says: the twin would run every check the original runs. A class marked incomplete
    for the moment of the build is built from the node, and the mark is put back at once.
    """
    complete = [cls for cls in classes if cls.__dict__.get("__pydantic_complete__") is True]
    for cls in complete:
        type.__setattr__(cls, "__pydantic_complete__", False)
    try:
        yield
    finally:
        for cls in complete:
            type.__setattr__(cls, "__pydantic_complete__", True)
