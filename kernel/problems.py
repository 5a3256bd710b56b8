"""RFC 9457 problem details: every HTTP error of leadflow is one of these."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"


class Problem(Exception):  # noqa: N818 - the RFC's name
    """An error answered as problem+json; `errors` lists field-level problems."""

    def __init__(
        self, status: int, title: str, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        """The problem document."""
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as `{field, message}` pairs, the field as a dotted path."""
    return [
        {"field": ".".join(str(part) for part in item["loc"] if part != "body") or "body", "message": item["msg"]}
        for item in error.errors()
    ]


def install(app: FastAPI) -> None:
    """Answer every error of `app` with problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return JSONResponse(problem.body(request.url.path), status_code=problem.status, media_type=MEDIA_TYPE)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(error)
        first = errors[0]
        problem = Problem(422, "Invalid request", f"{first['field']}: {first['message']}", errors=errors)
        return JSONResponse(problem.body(request.url.path), status_code=422, media_type=MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        problem = Problem(error.status_code, str(error.detail), str(error.detail))
        return JSONResponse(problem.body(request.url.path), status_code=error.status_code, media_type=MEDIA_TYPE)
