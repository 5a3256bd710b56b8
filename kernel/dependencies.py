"""FastAPI dependencies every service's routes share: the session and the unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from eventlog.unit_of_work import UnitOfWork


def unit_of_work(request: Request) -> Iterator[UnitOfWork]:
    """A unit of work for one request; the command handler commits it."""
    with request.app.state.context.log.unit_of_work() as uow:
        yield uow


def session(uow: Annotated[UnitOfWork, Depends(unit_of_work)]) -> Session:
    """The request's database session, for reads."""
    return uow.session


UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work)]
SessionDep = Annotated[Session, Depends(session)]
