"""Problems of a track document, each naming the track, the step and the field, as a marketer can act on them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import ErrorDetails

_COMPARISONS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
_CONTEXT_KEYS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


@dataclass(frozen=True)
class TrackProblem:
    """One thing wrong with a track: which track, which step (number from 1 and id), which field, why."""

    track: str | None
    step: int | None
    step_id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = [f"track `{self.track}`"] if self.track else ([] if self.step else ["nurture settings"])
        if self.step is not None:
            where.append(f"step {self.step}" + (f" (`{self.step_id}`)" if self.step_id else ""))
        glue = " " if self.message.startswith(("must", "is ")) else ": "
        what = f"`{self.field}`{glue}{self.message}" if self.field else self.message
        return f"{', '.join(where)}: {what}"

    def as_dict(self) -> dict[str, Any]:
        """The problem as problem+json's `errors` item: field as a dotted path, with track and step."""
        path = [part for part in ("steps" if self.step else None, str(self.step) if self.step else None) if part]
        field = ".".join([*path, self.field] if self.field else path) or None
        return {"field": field, "message": str(self), "track": self.track, "step": self.step, "step_id": self.step_id}


class TrackError(ValueError):
    """A track (or a file of tracks, or the settings) that does not validate; one problem per line."""

    def __init__(self, problems: Sequence[TrackProblem]) -> None:
        super().__init__("invalid nurture track:\n" + "\n".join(f"- {problem}" for problem in problems))
        self.problems = list(problems)


def from_pydantic(errors: Sequence[ErrorDetails], doc: Any, *, track: str | None = None) -> list[TrackProblem]:
    """Pydantic's errors on one track document (or the settings when `track` is None), each located."""
    problems: list[TrackProblem] = []
    for error in errors:
        problem = _problem(tuple(error["loc"]), error, doc, track)
        if problem not in problems:
            problems.append(problem)
    return problems


def _problem(loc: tuple[int | str, ...], error: ErrorDetails, doc: Any, track: str | None) -> TrackProblem:
    if track is None and isinstance(doc, Mapping) and isinstance(doc.get("key"), str):
        track = doc["key"]
    step = step_id = None
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int):
        step = loc[1] + 1
        step_id = _step_id(doc, loc[1])
        loc = loc[2:]
    parts = [str(part + 1) if isinstance(part, int) else part for part in loc if part != "[key]"]
    if error["type"] == "extra_forbidden":
        *parent, unknown = parts or ["?"]
        message = f"unknown field `{unknown}`" + (f" in `{'.'.join(parent)}`" if parent else "")
        return TrackProblem(track, step, step_id, None, message)
    return TrackProblem(track, step, step_id, ".".join(parts) or None, describe(error))


def _step_id(doc: Any, index: int) -> str | None:
    steps = doc.get("steps") if isinstance(doc, Mapping) else None
    if isinstance(steps, list) and index < len(steps) and isinstance(steps[index], Mapping):
        found = steps[index].get("id")
        return found if isinstance(found, str) and found else None
    return None


def describe(error: ErrorDetails) -> str:
    """What is wrong, in words: "must be >= 1 (got 0)", "is required"."""
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
        return f"must not be empty{got}"
    message = error["msg"].replace("Input should be", "must be")
    return message[:1].lower() + message[1:] + got


def _show(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
