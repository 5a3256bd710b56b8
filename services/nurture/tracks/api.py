"""The nurture tracks API: marketing ops write tracks and the nurture settings; sales ops and managers read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path, Query, status

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.nurture.tracks import handlers, repository
from services.nurture.tracks.problems import TrackError
from services.nurture.tracks.schemas import (
    ProblemItem,
    SettingsIn,
    SettingsOut,
    TrackIn,
    TrackOut,
    TrackSummary,
    TrackVersionOut,
    ValidationOut,
)

router = APIRouter(prefix="/v1/nurture", tags=["nurture"], route_class=LimitedRoute)

Writer = Annotated[Principal, Depends(require_role("marketing_ops"))]
Reader = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager"))]
Key = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]*$", max_length=200, description="The track's key.")]
R = TypeVar("R")
INVALID = problems.responses(422)
NOT_FOUND = problems.responses(404)
CHANGE = problems.responses(404, 409, 422)


def _answer(call: Callable[[], R]) -> R:
    """Run a command, turning its outcomes into problems that name the track, the step and the field."""
    try:
        return call()
    except TrackError as error:
        first = str(error.problems[0]) if error.problems else "invalid"
        more = f" (and {len(error.problems) - 1} more)" if len(error.problems) > 1 else ""
        raise Problem(
            422, "Invalid nurture track", first + more, errors=[problem.as_dict() for problem in error.problems]
        ) from None
    except handlers.TrackNotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    except handlers.TrackConflict as error:
        raise Problem(409, "Conflict", str(error)) from None


@router.get("/tracks")
def list_tracks(session: SessionDep, user: Reader) -> list[TrackSummary]:
    """Every track by key: its newest version and the version leads enter now."""
    active = {row.key: row.version for row in repository.active_versions(session)}
    return [
        TrackSummary(
            key=row.key,
            name=row.document["name"],
            priority=row.document.get("priority", 0),
            latest_version=row.version,
            latest_status=row.status,
            active_version=active.get(row.key),
            steps=len(row.document["steps"]),
        )
        for row in repository.latest_versions(session)
    ]


@router.post("/tracks", status_code=status.HTTP_201_CREATED, responses=problems.responses(409, 422))
def create_track(body: TrackIn, uow: UnitOfWorkDep, user: Writer) -> TrackVersionOut:
    """Create a track as version 1, in draft; activate it to let leads in."""
    row = _answer(lambda: handlers.create_track(uow, body.document, by=user.subject, now=utc_now()))
    return TrackVersionOut.of(row)


@router.post("/tracks/validate")
def validate_track(body: TrackIn, uow: UnitOfWorkDep, user: Writer) -> ValidationOut:
    """Check a track document against the settings in force, saving nothing; each error names track, step, field."""
    found = handlers.validate(uow, body.document)
    return ValidationOut(valid=not found, errors=[ProblemItem.of(problem) for problem in found])


@router.get("/tracks/{key}", responses=NOT_FOUND)
def get_track(key: Key, session: SessionDep, user: Reader) -> TrackOut:
    """A track with every version, oldest first."""
    rows = repository.versions(session, key)
    if not rows:
        raise Problem(404, "Not found", f"no nurture track `{key}`")
    return TrackOut(key=key, versions=[TrackVersionOut.of(row) for row in rows])


@router.get("/tracks/{key}/versions/{version}", responses=NOT_FOUND)
def get_track_version(
    key: Key, version: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep, user: Reader
) -> TrackVersionOut:
    """One version of a track (the one an enrollment follows)."""
    row = repository.track_version(session, key, version)
    if row is None:
        raise Problem(404, "Not found", f"no nurture track `{key}` v{version}")
    return TrackVersionOut.of(row)


@router.put("/tracks/{key}", responses=CHANGE)
def edit_track(key: Key, body: TrackIn, uow: UnitOfWorkDep, user: Writer) -> TrackVersionOut:
    """A new draft version of the track (the newest draft is changed in place; an equal document changes nothing)."""
    return TrackVersionOut.of(
        _answer(lambda: handlers.edit_track(uow, key, body.document, by=user.subject, now=utc_now()))
    )


@router.post("/tracks/{key}/activate", responses=CHANGE)
def activate_track(
    key: Key,
    uow: UnitOfWorkDep,
    user: Writer,
    version: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Default: the newest version.")] = None,
) -> TrackVersionOut:
    """Make a version the one leads enter; the version active before is retired (its enrollments go on)."""
    return TrackVersionOut.of(_answer(lambda: handlers.activate(uow, key, version, by=user.subject, now=utc_now())))


@router.post("/tracks/{key}/pause", responses=CHANGE)
def pause_track(key: Key, uow: UnitOfWorkDep, user: Writer) -> TrackVersionOut:
    """Stop the track taking new leads."""
    return TrackVersionOut.of(_answer(lambda: handlers.pause(uow, key, by=user.subject, now=utc_now())))


@router.post("/tracks/{key}/resume", responses=CHANGE)
def resume_track(key: Key, uow: UnitOfWorkDep, user: Writer) -> TrackVersionOut:
    """Let a paused track take new leads again."""
    return TrackVersionOut.of(_answer(lambda: handlers.resume(uow, key, by=user.subject, now=utc_now())))


@router.get("/settings")
def get_settings(session: SessionDep, user: Reader) -> SettingsOut:
    """The nurture settings in force: calendars, caps and quiet hours per contact, the default time zone."""
    return SettingsOut.of(repository.current_settings_row(session))


@router.put("/settings", responses=INVALID)
def put_settings(body: SettingsIn, uow: UnitOfWorkDep, user: Writer) -> SettingsOut:
    """New nurture settings; refused, naming the track, if a live track would no longer compile with them."""
    return SettingsOut.of(_answer(lambda: handlers.put_settings(uow, body.document, by=user.subject, now=utc_now())))
