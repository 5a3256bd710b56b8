"""The HTTP client every CLI command that reads or changes data goes through.

The CLI talks to the API named by LEADFLOW_API_URL (default: the host and port of the settings) with the bearer
token in LEADFLOW_TOKEN, so the same roles and rules apply as over HTTP, the CLI works from any folder, and it
never opens a database of its own.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Column

from kernel.settings import Settings, get_settings

console = Console()

ApiUrl = Annotated[
    str | None,
    typer.Option(envvar="LEADFLOW_API_URL", help="The leadflow API (default: http://LEADFLOW_HTTP_HOST:PORT)."),
]
Token = Annotated[str, typer.Option(envvar="LEADFLOW_TOKEN", help="Your bearer token (leadflow token issue).")]


class Api:
    """A small client of the leadflow API that turns problems into readable errors and a non-zero exit."""

    def __init__(self, url: str | None, token: str) -> None:
        if not token:
            console.print(
                "[red]no token[/red]: set LEADFLOW_TOKEN (or pass --token); `leadflow token issue` makes one",
                soft_wrap=True,
            )
            raise typer.Exit(2)
        self.url = url or default_api_url()
        self._client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; a problem+json answer ends the command with its detail; None for 204."""
        response = self.send(method, path, **kwargs)
        if response.is_error:
            body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
            console.print(
                f"[red]{response.status_code} {body.get('title', response.reason_phrase)}[/red]: "
                f"{body.get('detail', response.text)}",
                soft_wrap=True,
            )
            for item in body.get("errors", [])[1:]:
                console.print(f"  - {item.get('message') or item}")
            raise typer.Exit(1)
        return response.json() if response.content else None

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw response; an unreachable API ends the command with one line saying what to set."""
        try:
            return self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            console.print(
                f"[red]cannot reach the API at {self.url}[/red] ({error}): start it (`leadflow up`) "
                "or set LEADFLOW_API_URL",
                soft_wrap=True,
            )
            raise typer.Exit(2) from None


def load_settings() -> Settings:
    """The settings; invalid ones end the command with one line naming the variable and what is wrong."""
    try:
        return get_settings()
    except ValidationError as error:  # one line saying what to set, not a traceback
        first = error.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if first["loc"]:
            message = "LEADFLOW_" + "_".join(str(part) for part in first["loc"]).upper() + ": " + message
        console.print(f"[red]invalid settings[/red]: {message}", soft_wrap=True)
        raise typer.Exit(2) from None


def id_column(header: str = "id") -> Column:
    """Ids are copied into other commands: printed whole, on one line when it fits, folded (never cut) when not."""
    return Column(header, no_wrap=True, min_width=36, overflow="fold")


def default_api_url() -> str:
    """LEADFLOW_API_URL, else the API of these settings (so LEADFLOW_HTTP_PORT is honoured)."""
    settings = load_settings()
    return settings.api_url or f"http://{settings.http_host}:{settings.http_port}"
