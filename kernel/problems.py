"""RFC 9457 problem details: every HTTP error of leadflow is one of these, and the OpenAPI document says so."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from database.engine import DatabaseBusy

MEDIA_TYPE = "application/problem+json"
SCHEMA_NAME = "Problem"
log = logging.getLogger(__name__)


class Problem(Exception):  # noqa: N818 - the RFC's name
    """An error answered as problem+json; `errors` lists field-level problems."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
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

    def response(self, request: Request) -> JSONResponse:
        """The problem as an HTTP answer to `request`."""
        return JSONResponse(
            self.body(request.url.path), status_code=self.status, media_type=MEDIA_TYPE, headers=self.headers
        )


class FieldProblem(BaseModel):
    """One problem of a request, named by the field it is about."""

    field: str | None = Field(default=None, description="Dotted path of the field, e.g. `batch.3.context.traits`.")
    message: str = Field(description="What is wrong with it.")
    index: int | None = Field(default=None, description="The position of the item in a batch, where there is one.")


class ProblemDetails(BaseModel):
    """An RFC 9457 problem document; a route may add members, e.g. the limit a request went over."""

    model_config = ConfigDict(extra="allow", title=SCHEMA_NAME)

    type: str = Field(default="about:blank", description="Always about:blank: `title` and `status` say it all.")
    title: str = Field(description="A short summary of the kind of problem.")
    status: int = Field(description="The HTTP status.")
    detail: str = Field(description="What went wrong with this request, naming the field and the reason.")
    instance: str = Field(description="The path of the request.")
    errors: list[FieldProblem] | None = Field(default=None, description="Every problem found, one per field.")


DESCRIPTIONS = {
    400: "Malformed JSON, or JSON nested too deeply.",
    401: "No valid bearer token.",
    403: "The token's role may not do this.",
    404: "Nothing has this id.",
    409: "The lead definition's governance refuses this now; the detail says what is missing or in the way.",
    413: "The body, or the number of items in it, is over the limit the problem names.",
    415: "The content type is not one this route takes; the problem lists those it does.",
    422: "The request is well-formed but invalid; `errors` names each field and the reason.",
    500: "An unexpected error; it is logged on the server.",
    503: "Not ready, or the database stayed busy; retry later.",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` of a route that may answer `statuses` with a problem document."""
    reference = {"$ref": f"#/components/schemas/{SCHEMA_NAME}"}
    return {
        status: {"description": DESCRIPTIONS[status], "content": {MEDIA_TYPE: {"schema": reference}}}
        for status in sorted(set(statuses))
    }


def field_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as `{field, message}` pairs, the field as a dotted path."""
    return [
        {"field": ".".join(str(part) for part in item["loc"] if part != "body") or "body", "message": item["msg"]}
        for item in error.errors()
    ]


def install(app: FastAPI) -> None:
    """Answer every error of `app` with problem+json, unexpected ones included, and put the schema in its OpenAPI."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem.response(request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(error)
        first = errors[0]
        return Problem(422, "Invalid request", f"{first['field']}: {first['message']}", errors=errors).response(request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return Problem(error.status_code, str(error.detail), str(error.detail), headers=error.headers).response(request)

    @app.exception_handler(DatabaseBusy)
    async def _busy(request: Request, error: DatabaseBusy) -> JSONResponse:
        return Problem(503, "Database busy", str(error), headers={"Retry-After": "5"}).response(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # The traceback is for the operator's log; the caller learns only that it is not their fault.
        log.error("unexpected error answering %s %s", request.method, request.url.path, exc_info=error)
        detail = "an unexpected error; it is logged on the server"
        return Problem(500, "Internal server error", detail).response(request)

    app.openapi = _with_problem_schema(app.openapi)  # type: ignore[method-assign]


def _with_problem_schema(openapi: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """FastAPI registers only the models routes return; the problem document is added by hand."""

    def document() -> dict[str, Any]:
        schema = openapi()
        definitions = ProblemDetails.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(definitions.pop("$defs", {}))
        components[SCHEMA_NAME] = definitions
        return schema

    return document
