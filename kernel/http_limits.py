"""What an HTTP request may send (body size, content type, JSON depth), checked before a route runs, and the
problem answers every route documents because of it."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import Message, Receive

from kernel import problems
from kernel.auth import current_user
from kernel.dependencies import unit_of_work
from kernel.problems import Problem

MAX_BODY_BYTES = 1024 * 1024
"""1 MiB: a body over it is refused before it is read (Segment's own batch endpoint takes 500 KB)."""
MAX_JSON_DEPTH = 32
"""Objects and arrays nested deeper than this are refused: no real payload comes close, a parser's stack might."""
MAX_BATCH_ITEMS = 5000
"""Most items one ingest request may carry."""
JSON = "application/json"


class LimitedRoute(APIRoute):
    """A route that refuses a body too large (413), of a content type it does not take (415) or not JSON within
    the depth limit (400) before it runs, and whose OpenAPI entry lists every problem it can answer."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.responses = {**problems.responses(*self._problem_statuses()), **self.responses}

    @property
    def accepted_types(self) -> tuple[str, ...]:
        """The content types the route's body may have (none: it takes no body)."""
        declared = (self.openapi_extra or {}).get("requestBody", {}).get("content", {})
        if declared:
            return tuple(declared)
        return (JSON,) if self.body_field is not None else ()

    def _problem_statuses(self) -> set[int]:
        statuses = {500}
        calls = {dependant.call for dependant in _walk(self.dependant)}
        if current_user in calls:
            statuses |= {401, 403}
        if unit_of_work in calls:
            statuses.add(503)
        if self.accepted_types:
            statuses |= {400, 413, 415, 422}
        if any(dependant.path_params or dependant.query_params for dependant in _walk(self.dependant)):
            statuses.add(422)
        return statuses

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, behind the checks of the body."""
        handler = super().get_route_handler()
        accepted = self.accepted_types
        if not accepted:
            return handler

        async def checked(request: Request) -> Response:
            if not _has_body(request):
                return await handler(request)
            _check_content_type(request, accepted)
            raw = await read_body(request, MAX_BODY_BYTES)
            request.state.json_body = await run_in_threadpool(parse_json, raw)
            request.state.raw_body = raw  # for routes that check a signature of the bytes as sent
            return await handler(Request(request.scope, _replaying(raw, request.receive)))

        return checked


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for dependency in dependant.dependencies:
        yield from _walk(dependency)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length.strip() not in ("", "0"))


def media_type(request: Request) -> str:
    """The request's content type without its parameters, e.g. `application/json`."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _check_content_type(request: Request, accepted: tuple[str, ...]) -> None:
    media = media_type(request)
    if media not in accepted:
        raise Problem(
            415,
            "Unsupported media type",
            f"content-type: {media or '(none)'} is not accepted here; send one of {', '.join(accepted)}",
            accepted=list(accepted),
        )


def _too_large(limit: int) -> Problem:
    # Closing the connection stops the client sending the rest, which the server would otherwise read and drop.
    return Problem(
        413,
        "Content too large",
        f"body: over the limit of {limit} bytes; send it in smaller requests",
        headers={"Connection": "close"},
        max_bytes=limit,
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be over `limit` bytes: by its Content-Length before
    reading anything, or while it streams in, so a huge body is never held in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _replaying(raw: bytes, receive: Receive) -> Receive:
    """A `receive` that hands over the body already read, then the client's own (its disconnect, say)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return replay


def parse_json(raw: bytes) -> Any:
    """The JSON document in `raw`, or a 400 problem saying why it is not one within the depth limit."""
    too_deep = Problem(
        400, "JSON too deep", f"body: nested deeper than {MAX_JSON_DEPTH} levels", max_depth=MAX_JSON_DEPTH
    )
    try:
        value = json.loads(raw)
    except RecursionError:  # far deeper than the limit: the parser gave up before we could count
        raise too_deep from None
    except ValueError as error:  # not JSON, not UTF-8, or an integer of more digits than Python converts
        raise Problem(400, "Malformed JSON", f"body: not JSON: {error}") from None
    if exceeds_depth(value, MAX_JSON_DEPTH):
        raise too_deep
    return value


def exceeds_depth(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels in `value` (counted without recursion)."""
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth + 1 > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def check_items(count: int, limit: int = MAX_BATCH_ITEMS) -> None:
    """Refuse a request of more than `limit` items with 413."""
    if count > limit:
        raise Problem(
            413,
            "Too many items",
            f"body: {count} items is over the limit of {limit} a request; send them in smaller batches",
            max_items=limit,
        )


async def _json_body(request: Request) -> Any:
    body = getattr(request.state, "json_body", None)
    if body is None:
        errors = [{"field": "body", "message": "a JSON body is required"}]
        raise Problem(422, "Invalid request", "body: a JSON body is required", errors=errors)
    return body


JsonBody = Annotated[Any, Depends(_json_body)]
"""The JSON body of a `LimitedRoute` that declares its content types in `openapi_extra` instead of a model."""
