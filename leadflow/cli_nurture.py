"""`leadflow nurture ...`: marketing ops load and list nurture tracks from a terminal, through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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


def _when(value: str | None) -> str:
    """An API time as the table shows it: UTC to the minute."""
    return value[:16].replace("T", " ") + " UTC" if value else "-"


@nurture.command("enrollments")
def list_enrollments(
    lead_id: Annotated[str | None, typer.Option("--lead-id", help="The lead (its contact id).")] = None,
    email: Annotated[str | None, typer.Option("--email", help="The contact's email.")] = None,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """A lead's enrollments, newest first: where each stands (next step and when) or why it ended, and its steps."""
    if (lead_id is None) == (email is None):
        raise typer.BadParameter("give exactly one of --lead-id and --email", param_hint="--lead-id/--email")
    query = {"lead_id": lead_id} if lead_id is not None else {"email": email}
    items = Api(api_url, token).call("GET", "/v1/nurture/enrollments", params=query)["items"]
    if not items:
        console.print("no enrollments")
        return
    table = Table("track", "status", "entered", "reason", "sent", "next step", "due", "exit")
    for item in items:
        following = item["next_step"]
        table.add_row(
            f"{item['track_key']} v{item['track_version']}",
            item["status"],
            _when(item["enrolled_at"]),
            item["entry_reason"],
            str(item["steps_sent"]),
            f"{following['step']} {following['step_id'] or ''} ({following['waiting_for']})".strip()
            if following
            else "-",
            _when(following["due_at"]) if following else "-",
            f"{item['exit_reason']} {_when(item['exited_at'])}" if item["exit_reason"] else "-",
        )
    console.print(table)
    for item in items:
        if item["history"]:
            steps = Table("step", "outcome", "at", "channel", "content", "detail", "engaged", title=item["track_key"])
            for run in item["history"]:
                steps.add_row(
                    f"{run['step']} {run['step_id']}",
                    run["outcome"],
                    _when(run["at"]),
                    run["channel"] or "-",
                    run["content_id"] or "-",
                    run["detail"] or (f"until {_when(run['deferred_until'])}" if run["deferred_until"] else "-"),
                    _when(run["engaged_at"]),
                )
            console.print(steps)


@nurture.command("stats")
def track_stats(track: str, api_url: ApiUrl = None, token: Token = "") -> None:
    """A track's figures: enrolled, active, exits by reason, qualification after nurture, engagement per step."""
    found = Api(api_url, token).call("GET", f"{TRACKS}/{track}/stats")
    share = found["share_qualified"]
    median = found["median_days_to_mql"]
    summary = Table("enrolled", "active", "exited", "qualified after", "share qualified", "median days to MQL")
    exited = ", ".join(f"{reason} {count}" for reason, count in sorted(found["exited"].items())) or "-"
    summary.add_row(
        str(found["enrolled"]),
        str(found["active"]),
        exited,
        str(found["qualified_after_nurture"]),
        f"{share:.0%}" if share is not None else "-",
        f"{median:.1f}" if median is not None else "-",
    )
    console.print(summary)
    steps = Table("step", "sent", "engaged", "rate", "skipped", "deferred", title=f"{track}: steps")
    for step in found["steps"]:
        rate = step["engagement_rate"]
        steps.add_row(
            f"{step['step']} {step['step_id']}",
            str(step["sent"]),
            str(step["engaged"]),
            f"{rate:.0%}" if rate is not None else "-",
            str(step["skipped"]),
            str(step["deferred"]),
        )
    console.print(steps)
