"""`leadflow definition ...`: marketing ops and sales ops work on the lead definition from a terminal.

The commands call the lead-definition API (LEADFLOW_API_URL, with the bearer token in LEADFLOW_TOKEN), so the
same roles and rules apply as over HTTP.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Column, Table

from leadflow.cli_client import Api, ApiUrl, Token, console, id_column

definition = typer.Typer(help="The lead definition marketing and sales agree on.", no_args_is_help=True)


DocumentFile = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A definition in YAML or JSON.")
]


def _document(path: Path) -> dict[str, Any]:
    text = path.read_text()
    loaded = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    if not isinstance(loaded, dict):
        raise typer.BadParameter(f"{path} does not hold a definition document", param_hint="FILE")
    return loaded


def _show(row: dict[str, Any]) -> None:
    approvals = ", ".join(
        f"{side}: {given['by']} (rev {given['revision']})" if given else f"{side}: missing"
        for side, given in row["approvals"].items()
    )
    version = f"v{row['version']}" if row["version"] else "draft"
    console.print(f"[bold]{row['name']}[/bold] {version} [{row['status']}] id={row['id']} revision={row['revision']}")
    console.print(f"  approvals: {approvals}")
    console.print(f"  open MQLs it no longer qualifies (unaccepted): {row.get('open_mqls', 'keep')}")
    _warn(row.get("warnings", []))


def _warn(warnings: list[dict[str, Any]]) -> None:
    for warning in warnings:
        console.print(f"  [yellow]warning[/yellow] {warning['message']}", soft_wrap=True)


@definition.command("list")
def list_definitions(api_url: ApiUrl = None, token: Token = "") -> None:
    """Drafts and versions, newest first, with who approved and published what."""
    table = Table("version", "status", "name", "revision", "approvals", "published", id_column())
    for row in Api(api_url, token).call("GET", "/v1/definitions"):
        approved = [side for side, given in row["approvals"].items() if given]
        table.add_row(
            str(row["version"] or "-"),
            row["status"],
            row["name"],
            str(row["revision"]),
            ", ".join(approved) or "-",
            f"{row['published_at'] or '-'} {row['published_by'] or ''}",
            row["id"],
        )
    console.print(table)


@definition.command("show")
def show(definition_id: str, api_url: ApiUrl = None, token: Token = "") -> None:
    """One definition with its history (and its document with --json)."""
    row = Api(api_url, token).call("GET", f"/v1/definitions/{definition_id}")
    _show(row)
    for entry in row["history"]:
        console.print(
            f"  {entry['at']} {entry['action']:<20} {entry['actor']} ({entry['role']}) rev {entry['revision']}"
        )


@definition.command("draft")
def draft(file: DocumentFile, api_url: ApiUrl = None, token: Token = "") -> None:
    """Start a draft from a YAML or JSON file (validated: each problem names the rule and the field)."""
    _show(Api(api_url, token).call("POST", "/v1/definitions", json={"document": _document(file)}))


@definition.command("validate")
def validate(file: DocumentFile, api_url: ApiUrl = None, token: Token = "") -> None:
    """Check a YAML or JSON definition without storing it: its errors, or the warnings on what its rules read."""
    warnings = Api(api_url, token).call("POST", "/v1/definitions/validate", json={"document": _document(file)})
    console.print(f"{file}: valid" + (f", {len(warnings)} warning(s)" if warnings else ""))
    _warn(warnings)


@definition.command("fields")
def fields(api_url: ApiUrl = None, token: Token = "") -> None:
    """The attribute paths and touch types a definition can read: leadflow's own and those seen in ingested data."""
    known = Api(api_url, token).call("GET", "/v1/definitions/fields")
    table = Table(Column("path", overflow="fold"), "source", "what it holds")
    for item in known["paths"]:
        table.add_row(item["path"], item["source"], item["description"] or "")
    console.print(table)
    console.print("touch types: " + ", ".join(known["touch_types"]), soft_wrap=True)


@definition.command("delete")
def delete(definition_id: str, api_url: ApiUrl = None, token: Token = "") -> None:
    """Delete a draft (a published version cannot be: it stays as history)."""
    Api(api_url, token).call("DELETE", f"/v1/definitions/{definition_id}")
    console.print(f"draft {definition_id} deleted")


@definition.command("edit")
def edit(definition_id: str, file: DocumentFile, api_url: ApiUrl = None, token: Token = "") -> None:
    """Replace a draft's document: a new revision, and both approvals are cleared."""
    _show(Api(api_url, token).call("PUT", f"/v1/definitions/{definition_id}", json={"document": _document(file)}))


@definition.command("diff")
def diff(definition_id: str, api_url: ApiUrl = None, token: Token = "") -> None:
    """What a draft changes against the version in force."""
    result = Api(api_url, token).call("GET", f"/v1/definitions/{definition_id}/diff")
    console.print(f"against version {result['against_version'] or '(none published)'}:")
    for change in result["changes"]:
        console.print(f"  {change['change']:<8} {change['path']}: {change['old']!r} -> {change['new']!r}")


@definition.command("approve")
def approve(
    definition_id: str,
    revision: Annotated[int, typer.Option(help="The revision you reviewed.")],
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Approve a draft's revision for your side (your token's role: marketing_ops or sales_ops)."""
    body = {"revision": revision}
    _show(Api(api_url, token).call("POST", f"/v1/definitions/{definition_id}/approvals", json=body))


@definition.command("publish")
def publish(
    definition_id: str,
    note: Annotated[str | None, typer.Option(help="Why this version.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the rescoring of every lead.")] = True,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Publish a draft both sides approved; every lead is then rescored (followed with a progress bar)."""
    api = Api(api_url, token)
    row = api.call("POST", f"/v1/definitions/{definition_id}/publish", json={"change_note": note})
    _show(row)
    if wait:
        _follow_rescore(api, row["version"])


@definition.command("rollback")
def rollback(
    version: int,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the rescoring of every lead.")] = True,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Put an earlier version back in force, as a new version."""
    api = Api(api_url, token)
    row = api.call("POST", "/v1/definitions/rollback", json={"version": version, "change_note": note})
    _show(row)
    if wait:
        _follow_rescore(api, row["version"])


@definition.command("rescores")
def rescores(api_url: ApiUrl = None, token: Token = "") -> None:
    """Rescoring runs after each publication, with their progress."""
    table = Table("version", "status", "done", "total", "started", "finished", "MQLs: kept / accepted / returned")
    for job in Api(api_url, token).call("GET", "/v1/definitions/rescores"):
        table.add_row(
            str(job["definition_version"]),
            job["status"],
            str(job["done"]),
            str(job["total"]),
            job["created_at"],
            job["finished_at"] or "-",
            f"{job['mqls_still_qualified'] + job['mqls_kept_by_policy']} / {job['mqls_kept_accepted']} / "
            f"{job['mqls_returned_to_engaged']}",
        )
    console.print(table)


def _follow_rescore(api: Api, version: int) -> None:
    columns = (
        TextColumn("rescoring under v{task.fields[version]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("rescore", total=None, version=version)
        while True:
            jobs = [job for job in api.call("GET", "/v1/definitions/rescores") if job["definition_version"] == version]
            job = jobs[0] if jobs else None
            if job is not None:
                progress.update(task, total=job["total"] or None, completed=job["done"])
                if job["status"] in ("done", "failed", "superseded"):
                    break
            time.sleep(0.5)
    console.print(f"rescoring {job['status']}: {job['done']} leads")
    console.print(_mql_cases(job))


def _mql_cases(job: dict[str, Any]) -> str:
    return (
        f"open MQLs: {job['mqls_still_qualified']} still qualify; of those it no longer qualifies, "
        f"{job['mqls_kept_accepted']} kept (a handoff accepted them), {job['mqls_kept_by_policy']} kept (policy), "
        f"{job['mqls_returned_to_engaged']} returned to engaged"
    )


@definition.command("simulate")
def simulate(
    definition_id: str,
    start: Annotated[datetime, typer.Option("--from", help="Report qualifications from here (UTC).")],
    end: Annotated[datetime, typer.Option("--to", help="Replay touches before this (UTC).")],
    segment: Annotated[str | None, typer.Option(help="Break MQLs down by this field, e.g. account.country.")] = None,
    here: Annotated[
        bool,
        typer.Option(
            "--here",
            help="For operators: replay in this process on LEADFLOW_DATABASE_URL (which must be set), with every "
            "core, instead of asking the API.",
        ),
    ] = False,
    workers: Annotated[int, typer.Option(help="With --here: processes to replay accounts in.")] = os.cpu_count() or 1,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Replay stored history through a definition and the one in force; per rule, the contacts and touches it fired
    on (a rule that never fires is flagged)."""
    window = {"start": _utc(start).isoformat(), "end": _utc(end).isoformat(), "segment": segment}
    if not here:
        api = Api(api_url, token)
        job = api.call("POST", f"/v1/definitions/{definition_id}/simulate", json=window)
        _report(_follow_simulation(api, job))
        return
    _report(_simulate_here(definition_id, window, workers))


PHASES = {
    None: "waiting for a runner",
    "loading": "loading the history",
    "replaying": "replaying",
    "comparing": "comparing",
}


def _follow_simulation(api: Api, job: dict[str, Any]) -> dict[str, Any]:
    """Poll the simulation job the API started, with its progress, until it ends; its result."""
    path = f"/v1/definitions/{job['definition_id']}/simulations/{job['id']}"
    with _progress() as progress:
        task = progress.add_task("simulate", total=None, phase=PHASES[None])
        while job["status"] in ("pending", "running"):
            time.sleep(0.5)
            job = api.call("GET", path)
            progress.update(task, completed=job["done"], total=job["total"] or None, phase=PHASES.get(job["phase"]))
    if job["status"] != "done":
        console.print(f"[red]simulation {job['status']}[/red]: {job['error']}", soft_wrap=True)
        raise typer.Exit(1)
    return cast(dict[str, Any], job["result"])


def _progress() -> Progress:
    columns = (
        TextColumn("{task.fields[phase]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("touches"),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=console)


def _simulate_here(definition_id: str, window: dict[str, Any], workers: int) -> dict[str, Any]:
    from database.engine import make_engine, make_session_factory
    from services.lead_scoring.simulation.schemas import SimulateIn
    from services.lead_scoring.simulation.service import SimulationFailed, run_simulation

    url = os.environ.get("LEADFLOW_DATABASE_URL")
    if not url:
        console.print("[red]--here needs the database[/red]: set LEADFLOW_DATABASE_URL (or drop --here to ask the API)")
        raise typer.Exit(2)
    session_factory = make_session_factory(make_engine(url))
    with _progress() as progress:
        task = progress.add_task("simulate", total=None, phase=PHASES[None])
        try:
            result = run_simulation(
                session_factory,
                definition_id=uuid.UUID(definition_id),
                request=SimulateIn.model_validate(window),
                workers=workers,
                progress=lambda phase, done, total: progress.update(
                    task, completed=done, total=total or None, phase=PHASES.get(phase, phase)
                ),
            )
        except SimulationFailed as error:
            console.print(f"[red]simulation failed[/red]: {error}", soft_wrap=True)
            raise typer.Exit(1) from None
    return result.model_dump(mode="json")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _report(result: dict[str, Any]) -> None:
    console.print(f"{result['touches']:,} touches replayed in {result['seconds']:.1f} s")
    table = Table("", "draft", "in force")
    sides = [result["draft"], result["published"]]
    rows: list[tuple[str, Callable[[Any], str]]] = [
        ("definition", lambda side: f"{side['name']} ({side['status']} v{side['version'] or '-'})"),
        ("MQLs", lambda side: f"{side['mqls']:,} ({side['leads']:,} leads)"),
        ("acceptance rate", lambda side: _rate(side["quality"]["acceptance_rate"])),
        ("win rate", lambda side: _rate(side["quality"]["win_rate"])),
        ("precision", lambda side: _rate(side["quality"]["precision"])),
        ("recall", lambda side: _rate(side["quality"]["recall"])),
    ]
    for label, value in rows:
        table.add_row(label, *(value(side) if side else "-" for side in sides))
    console.print(table)
    weeks = Table("week", "draft", "in force")
    published = result["published"]
    for week in sorted(set(result["draft"]["per_week"]) | set(published["per_week"] if published else {})):
        in_force = published["per_week"].get(week, 0) if published else "-"
        weeks.add_row(week, str(result["draft"]["per_week"].get(week, 0)), str(in_force))
    console.print(weeks)
    _rules_report(result["draft"], published)
    console.print(
        f"newly qualified under the draft: {len(result['newly_qualified']):,}; dropped: {len(result['dropped']):,}"
    )


def _rules_report(draft: dict[str, Any], published: dict[str, Any] | None) -> None:
    for side, title in ((draft, "draft"), (published, "in force")):
        if side is None:
            continue
        table = Table("rule", "kind", "contacts", "touches", "", title=f"rules of the {title}")
        table.columns[0].overflow = "fold"
        for rule in side["rules"]:
            touches = "-" if rule["touches"] is None else f"{rule['touches']:,}"
            flag = "[yellow]never fired[/yellow]" if rule["never_fired"] else ""
            table.add_row(rule["rule_id"], rule["kind"], f"{rule['contacts']:,}", touches, flag)
        console.print(table)
        if side["never_fired"]:
            console.print(f"[yellow]never fired ({title}):[/yellow] {', '.join(side['never_fired'])}", soft_wrap=True)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"
