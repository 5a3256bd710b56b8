"""What changed between two routing documents, as lines a sales manager reads: "rep ana@acme.com weight 1 -> 2".

Pure. Reps are matched by email, teams by name, rules by name (a rule renamed reads as one removed, one added).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.handoff.org.document import RoutingDocument

SUMMARY_LENGTH = 300


def describe_changes(before: RoutingDocument | None, after: RoutingDocument) -> list[str]:
    """One line per change from `before` (None: nothing saved yet) to `after`; empty when they are the same."""
    if before is None:
        return [
            f"initial configuration: {len(after.teams)} teams, {len(after.reps)} reps, {len(after.rules)} rules, "
            f"{len(after.calendars)} calendars"
        ]
    old, new = before.dump(), after.dump()
    lines: list[str] = []
    if old.get("description") != new.get("description"):
        lines.append("description changed")
    lines += _keyed("calendar", old["calendars"], new["calendars"])
    lines += _keyed("team", _by(old["teams"], "name"), _by(new["teams"], "name"))
    lines += _keyed("rep", _by(old["reps"], "email"), _by(new["reps"], "email"))
    lines += _rules(old["rules"], new["rules"])
    return lines


def summary(lines: list[str]) -> str:
    """The changes in one line, cut to a readable length."""
    if not lines:
        return "no change"
    text = "; ".join(lines)
    if len(text) <= SUMMARY_LENGTH:
        return text
    return f"{len(lines)} changes: {text[: SUMMARY_LENGTH - 30].rsplit('; ', 1)[0]}; ..."


def _by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


def _keyed(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    lines = [f"{kind} {name} added" for name in new if name not in old]
    lines += [f"{kind} {name} removed" for name in old if name not in new]
    for name in new:
        if name in old and old[name] != new[name]:
            if kind == "calendar":
                lines.append(f"calendar {name} changed")
            else:
                lines += [f"{kind} {name} {change}" for change in _fields(old[name], new[name])]
    return lines


def _fields(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    changes = []
    for name in dict.fromkeys([*old, *new]):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if isinstance(before, list) or isinstance(after, list):
            changes += _list_change(name, before or [], after or [])
        else:
            changes.append(f"{name} {_show(before)} -> {_show(after)}")
    return changes


def _list_change(name: str, before: list[Any], after: list[Any]) -> list[str]:
    added = [item for item in after if item not in before]
    removed = [item for item in before if item not in after]
    return [f"{name} + {_show(item)}" for item in added] + [f"{name} - {_show(item)}" for item in removed]


def _rules(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    old_at = {rule["name"]: index for index, rule in enumerate(old)}
    new_at = {rule["name"]: index for index, rule in enumerate(new)}
    # A rule added or removed shifts the others' numbers; only a change of their order among themselves is a move.
    kept_before = [name for name in old_at if name in new_at]
    kept_after = [name for name in new_at if name in old_at]
    moved = {name for name, other in zip(kept_before, kept_after, strict=True) if name != other}
    lines = []
    for index, rule in enumerate(new):
        name = rule["name"]
        if name not in old_at:
            lines.append(f"rule {index + 1} ({name}) added")
            continue
        previous = old[old_at[name]]
        if name in moved:
            lines.append(f"rule {name} moved {old_at[name] + 1} -> {index + 1}")
        lines += [f"rule {index + 1} ({name}) {change}" for change in _fields(previous, rule)]
    lines += [
        f"rule {index + 1} ({rule['name']}) removed" for index, rule in enumerate(old) if rule["name"] not in new_at
    ]
    return lines


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_show(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)
