"""Simulating a lead definition on stored history, as a job: ask for it, follow its progress, read its result."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from auth.tokens import Principal
from events.envelope import utc_now
from kernel import problems
from kernel.auth import require_role
from kernel.dependencies import SessionDep, UnitOfWorkDep
from kernel.http_limits import LimitedRoute
from kernel.problems import Problem
from services.lead_scoring.definitions import commands
from services.lead_scoring.simulation import jobs, jobs_repository
from services.lead_scoring.simulation.schemas import SimulateIn, SimulationJobOut
from services.lead_scoring.simulation.service import window_problem

router = APIRouter(prefix="/v1/definitions", tags=["lead definition"], route_class=LimitedRoute)

Simulator = Annotated[Principal, Depends(require_role("marketing_ops", "sales_ops", "manager"))]


@router.post("/{definition_id}/simulate", status_code=status.HTTP_202_ACCEPTED, responses=problems.responses(404))
def simulate_definition(
    definition_id: uuid.UUID, body: SimulateIn, uow: UnitOfWorkDep, user: Simulator, response: Response
) -> SimulationJobOut:
    """Ask for a replay of the window's stored touches through this definition and the one in force, compared.

    202 with the job: follow it at `Location` (progress while it runs, the comparison once done).
    """
    if (message := window_problem(body)) is not None:
        raise Problem(422, "Invalid window", f"end: {message}", errors=[{"field": "end", "message": message}])
    try:
        job = jobs.request_simulation(uow, definition_id=definition_id, request=body, actor=user, now=utc_now())
    except commands.DefinitionNotFound as error:
        raise Problem(404, "Not found", str(error)) from None
    response.headers["Location"] = _location(job.definition_id, job.id)
    return SimulationJobOut.of(job)


@router.get("/{definition_id}/simulations", responses=problems.responses(404))
def list_simulations(definition_id: uuid.UUID, session: SessionDep, user: Simulator) -> list[SimulationJobOut]:
    """A definition's simulations, newest first, with their progress (GET one for its result)."""
    found = jobs_repository.jobs_of_definition(session, definition_id=definition_id)
    if not found:
        _known(session, definition_id)  # none yet, or no such definition
    return [SimulationJobOut.of(job, with_result=False) for job in found]


@router.get("/{definition_id}/simulations/{job_id}", responses=problems.responses(404))
def get_simulation(
    definition_id: uuid.UUID, job_id: uuid.UUID, session: SessionDep, user: Simulator
) -> SimulationJobOut:
    """A simulation: its progress while it runs, its comparison once done, or why it failed."""
    job = jobs_repository.job_of_definition(session, definition_id=definition_id, job_id=job_id)
    if job is None:
        raise Problem(404, "Not found", f"no simulation {job_id} of lead definition {definition_id}")
    return SimulationJobOut.of(job)


def _known(session: SessionDep, definition_id: uuid.UUID) -> None:
    try:
        commands.get_definition(session, definition_id)
    except commands.DefinitionNotFound as error:
        raise Problem(404, "Not found", str(error)) from None


def _location(definition_id: uuid.UUID, job_id: uuid.UUID) -> str:
    return f"{router.prefix}/{definition_id}/simulations/{job_id}"
