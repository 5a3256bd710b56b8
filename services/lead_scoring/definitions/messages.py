"""Pydantic validation errors of a lead definition, rewritten as messages a marketer or sales manager can act on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic_core import ErrorDetails

# Lists of rules, by their location in the document: how a person calls one item, and which key names it.
_RULE_LISTS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("fit", "rules"), "fit rule", "id"),
    (("engagement", "rules"), "engagement rule", "id"),
    (("disqualifiers",), "disqualifier", "id"),
    (("hand_raisers",), "hand-raiser", "id"),
    (("rejection_reasons",), "rejection reason", "code"),
)

_COMPARISONS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_CONTEXT_KEYS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
    "time": 'a time such as "09:00"',
}


def human_messages(errors: Sequence[ErrorDetails], doc: Mapping[str, Any]) -> list[str]:
    """One message per error: which rule (numbered from 1, with its id), which field, what is wrong."""
    messages: list[str] = []
    for error in errors:
        for message in _messages(error, doc):
            if message not in messages:
                messages.append(message)
    return messages


def _messages(error: ErrorDetails, doc: Mapping[str, Any]) -> list[str]:
    where, path = _locate(tuple(error["loc"]), doc)
    if error["type"] == "value_error" and not where and not path:
        # Checks across sections already name the rule, one per line.
        return str(error["ctx"]["error"]).splitlines()
    if error["type"] == "extra_forbidden":
        *parent, unknown = path or ("?",)
        text = f"unknown field `{unknown}`" + (f" in `{'.'.join(parent)}`" if parent else "")
        return [f"{where}: {text}" if where else text]
    what = _describe(error)
    if path and path[-1] == "(key)":
        field = f"the key {what}"
    elif path:
        # A check on a whole part ("`regex` is not valid") reads better after a colon than glued to the path.
        glue = " " if what.startswith(("must", "is ")) else ": "
        field = f"`{'.'.join(path)}`{glue}{what}"
    else:
        field = what
    return [f"{where}: {field}" if where else field]


def _locate(loc: tuple[int | str, ...], doc: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    for prefix, noun, key in _RULE_LISTS:
        size = len(prefix)
        if loc[:size] == prefix and len(loc) > size and isinstance(loc[size], int):
            index = loc[size]
            assert isinstance(index, int)
            name = _rule_name(doc, prefix, index, key)
            where = f"{noun} {index + 1}" + (f" (`{name}`)" if name else "")
            return where, _path(loc[size + 1 :])
    if loc[:1] == ("recycle",) and len(loc) > 1:
        return f"recycle policy for `{loc[1]}`", _path(loc[2:])
    return "", _path(loc)


def _rule_name(doc: Mapping[str, Any], prefix: tuple[str, ...], index: int, key: str) -> str | None:
    node: Any = doc
    for name in prefix:
        node = node.get(name) if isinstance(node, Mapping) else None
    if isinstance(node, list) and index < len(node) and isinstance(node[index], Mapping):
        name = node[index].get(key)
        return name if isinstance(name, str) and name else None
    return None


def _path(loc: Sequence[int | str]) -> tuple[str, ...]:
    # Positions count from 1, as in "fit rule 3"; "[key]" is pydantic's marker for a bad mapping key.
    return tuple(str(part + 1) if isinstance(part, int) else ("(key)" if part == "[key]" else part) for part in loc)


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    got = f" (got {_show(error['input'])})"
    if kind == "missing":
        return "is required"
    if kind == "value_error":
        return str(ctx["error"])
    if kind in _COMPARISONS:
        return f"must be {_COMPARISONS[kind]} {_show(ctx[_CONTEXT_KEYS[kind]])}{got}"
    if kind == "literal_error":
        return f"must be {ctx['expected']}{got}"
    if kind == "string_pattern_mismatch":
        return f"must match `{ctx['pattern']}`{got}"
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty (at least {ctx['min_length']})" + got
    for prefix, words in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_"):
            return f"must be {words}{got}"
    message = error["msg"].replace("Input should be", "must be")
    return message[:1].lower() + message[1:] + got


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # "> 0", not "> 0.0"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
