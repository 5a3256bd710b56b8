"""`leadflow nurture ...`: marketing ops load and list nurture tracks from a terminal, through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.table import Table

from leadflow.cli_client import Api, ApiUrl, Token, console

nurture = typer.Typer(help="Nurture: tracks that carry leads toward sales-readiness.", no_args_is_help=True)
tracks = typer.Typer(help="Nurture tracks: list them (no command), or load a file of them.")
nurture.add_typer(tracks, name="tracks")

TRACKS = "/v1/nurture/tracks"


def _file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        loaded = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"{path} is not valid YAML or JSON: {error}", param_hint="FILE") from None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("tracks", []), list):
        raise typer.BadParameter(f"{path} does not hold nurture settings and a list `tracks:`", param_hint="FILE")
    return loaded


@tracks.callback(invoke_without_command=True)
def list_tracks(context: typer.Context, api_url: ApiUrl = None, token: Token = "") -> None:
    """Every track: its newest version and status, the version leads enter now, priority and steps."""
    if context.invoked_subcommand is not None:
        return
    table = Table("key", "name", "priority", "active", "latest", "status", "steps")
    for row in Api(api_url, token).call("GET", TRACKS):
        active = f"v{row['active_version']}" if row["active_version"] else "-"
        table.add_row(
            row["key"],
            row["name"],
            str(row["priority"]),
            active,
            f"v{row['latest_version']}",
            row["latest_status"],
            str(row["steps"]),
        )
    console.print(table)


@tracks.command("load")
def load(file: Path, api_url: ApiUrl = None, token: Token = "") -> None:
    """Load a file of tracks: its settings, then each track created or versioned, and activated."""
    document = _file(file)
    api = Api(api_url, token)
    settings = {name: value for name, value in document.items() if name != "tracks"}
    if settings:
        saved = api.call("PUT", "/v1/nurture/settings", json={"document": settings})
        console.print(f"nurture settings v{saved['version']}")
    for track in document.get("tracks", []):
        key = track.get("key") if isinstance(track, dict) else None
        exists = isinstance(key, str) and api.send("GET", f"{TRACKS}/{key}").status_code == 200
        if exists:
            row = api.call("PUT", f"{TRACKS}/{key}", json={"document": track})
        else:
            row = api.call("POST", TRACKS, json={"document": track})
        was = row["status"]
        if was != "active":
            row = api.call("POST", f"{TRACKS}/{row['key']}/activate", params={"version": row["version"]})
        change = "unchanged" if was == "active" else f"{was} -> active"
        console.print(f"[bold]{row['key']}[/bold] v{row['version']} active ({change})")
