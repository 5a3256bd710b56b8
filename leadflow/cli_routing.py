"""`leadflow routing ...`: sales ops import and read the sales org (teams, reps, routing rules) from a terminal.

The commands call the routing API (LEADFLOW_API_URL, with the bearer token in LEADFLOW_TOKEN), so the same roles
and checks apply as over HTTP.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from leadflow.cli_client import Api, ApiUrl, Token, console

routing = typer.Typer(help="The sales org handoff routes to: teams, reps and routing rules.", no_args_is_help=True)


def _document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        loaded = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (OSError, yaml.YAMLError, json.JSONDecodeError) as error:
        raise typer.BadParameter(f"{path}: {error}", param_hint="FILE") from None
    if not isinstance(loaded, dict):
        raise typer.BadParameter(f"{path} does not hold a routing document (a mapping)", param_hint="FILE")
    # YAML reads dates and times as Python values; the API takes their ISO text.
    as_json: dict[str, Any] = json.loads(json.dumps(loaded, default=_iso))
    return as_json


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _print_problems(body: dict[str, Any]) -> None:
    console.print(f"[red]{body.get('title', 'invalid')}[/red], by field:")
    for item in body.get("errors") or [{"field": "-", "message": body.get("detail", "")}]:
        console.print(f"  [bold]{escape(str(item.get('field')))}[/bold]: {escape(str(item.get('message')))}")


@routing.command("import")
def import_file(
    file: Path,
    if_match: Annotated[
        int | None, typer.Option("--if-match", help="Save only if this version is still in force.")
    ] = None,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Save a YAML or JSON routing document as the next version; problems are printed by field."""
    api = Api(api_url, token)
    headers = {"If-Match": f'"v{if_match}"'} if if_match is not None else {}
    response = api.send("PUT", "/v1/routing", json=_document(file), headers=headers)
    if response.is_error:
        body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
        if response.status_code == 422:
            _print_problems(body)
        else:
            title, detail = body.get("title", response.reason_phrase), body.get("detail", response.text)
            console.print(f"[red]{response.status_code} {escape(str(title))}[/red]: {escape(str(detail))}")
        raise typer.Exit(1)
    saved = response.json()
    if not saved["changed"]:
        console.print(f"version {saved['version']} is already this document: nothing saved")
        return
    console.print(f"[green]saved version {saved['version']}[/green] ({len(saved['changes'])} changes):")
    for line in saved["changes"]:
        console.print(f"  - {escape(line)}")


@routing.command("validate")
def validate(file: Path, api_url: ApiUrl = None, token: Token = "") -> None:
    """Check a routing document without saving it: its problems by field, and what it would change."""
    result = Api(api_url, token).call("POST", "/v1/routing/validate", json=_document(file))
    if not result["valid"]:
        _print_problems({"title": "invalid routing configuration", "errors": result["errors"]})
        raise typer.Exit(1)
    against = result["against_version"]
    console.print(f"[green]valid[/green]; against version {against or '(none saved)'}:")
    for line in result["changes"] or ["no change"]:
        console.print(f"  - {escape(line)}")


@routing.command("show")
def show(api_url: ApiUrl = None, token: Token = "") -> None:
    """The configuration in force: teams, reps and rules as tables."""
    api = Api(api_url, token)
    current = api.call("GET", "/v1/routing")
    document = current["document"]
    console.print(
        f"[bold]routing version {current['version']}[/bold], saved {current['saved_at']} by {current['saved_by']}"
    )
    console.print(f"  {escape(current['summary'])}")
    teams = Table("team", "label", "region", "manager", "reps", title="Teams")
    for team in document["teams"]:
        members = sum(rep["team"] == team["name"] and rep.get("role", "rep") == "rep" for rep in document["reps"])
        teams.add_row(
            team["name"], team.get("label", ""), team.get("region", ""), team.get("manager", "-"), str(members)
        )
    console.print(teams)
    reps = Table("email", "name", "team", "role", "calendar", "weight", "open", "per day", "status", title="Reps")
    for rep in api.call("GET", "/v1/routing/reps")["reps"]:
        away = [f"away {a['start'][:10]}..{a['end'][:10]}" for a in rep["out_of_office"]]
        status = "active" if rep["active"] else "[red]inactive[/red]"
        reps.add_row(
            rep["email"],
            rep["name"],
            rep["team"],
            rep["role"],
            rep["calendar"],
            f"{rep['weight']:g}",
            str(rep["max_open"]),
            str(rep["max_new_per_day"]),
            ", ".join([status, *away]),
        )
    console.print(reps)
    rules = Table("#", "rule", "conditions", "target", "hours", title="Routing rules (first match wins)")
    for number, rule in enumerate(document["rules"], start=1):
        rules.add_row(
            str(number),
            escape(rule["name"]),
            escape("\n".join(_condition(condition) for condition in rule.get("conditions", [])) or "(every lead)"),
            escape(_target(rule["target"])),
            "yes" if rule.get("respect_working_hours") else "",
        )
    console.print(rules)


def _condition(condition: dict[str, Any]) -> str:
    if "eq" in condition:
        return f"{condition['field']} = {condition['eq']}"
    return f"{condition['field']} in {', '.join(condition['in'])}"


def _target(target: dict[str, Any]) -> str:
    if target["kind"] == "rep":
        return f"rep {target['rep']}"
    if target["kind"] == "pool":
        return f"pool {target['team']}"
    return "unrouted queue"
