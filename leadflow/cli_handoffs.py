"""`leadflow handoffs queue|show`: sales reps and managers read their queue and a handoff's dossier from a terminal.

The commands call the reps' API (LEADFLOW_API_URL, with the bearer token in LEADFLOW_TOKEN): a rep sees their
own handoffs, a manager their team's and the unrouted queue, sales ops all of them, exactly as over HTTP.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadflow.cli_client import Api, ApiUrl, Token, console, id_column

handoffs = typer.Typer(help="Qualified leads handed off to sales: the queue and each dossier.", no_args_is_help=True)

SLA_COLOURS = {"on_track": "green", "warning": "yellow", "breached": "red", "none": "dim"}


@handoffs.command("queue")
def queue(
    status: Annotated[str | None, typer.Option(help="unrouted, assigned, accepted, converted, ...")] = None,
    sla_state: Annotated[str | None, typer.Option(help="on_track, warning, breached or none.")] = None,
    fit_grade: Annotated[str | None, typer.Option(help="A to D.")] = None,
    rep_id: Annotated[uuid.UUID | None, typer.Option(help="One rep's handoffs.")] = None,
    account_id: Annotated[uuid.UUID | None, typer.Option(help="One account's handoffs.")] = None,
    sort: Annotated[str, typer.Option(help="sla_due (soonest first), score or created.")] = "sla_due",
    limit: Annotated[int, typer.Option(min=1, max=200, help="Rows per page.")] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next page, from the previous page's footer.")] = None,
    api_url: ApiUrl = None,
    token: Token = "",
) -> None:
    """Your queue as a table: status, contact, account, rep, fit, score and where the SLA clock stands."""
    filters = {"status": status, "sla_state": sla_state, "fit_grade": fit_grade, "rep_id": rep_id}
    params: dict[str, Any] = {name: str(value) for name, value in filters.items() if value is not None}
    params |= {"account_id": str(account_id)} if account_id else {}
    params |= {"sort": sort, "limit": limit} | ({"cursor": cursor} if cursor else {})
    page = Api(api_url, token).call("GET", "/v1/handoffs", params=params)
    table = Table(
        id_column("handoff"), "status", "contact", "account", "rep", "fit", "score", "SLA", "created", title="Queue"
    )
    for row in page["handoffs"]:
        contact, account, rep, sla = row["contact"], row["account"] or {}, row["rep"] or {}, row["sla"]
        table.add_row(
            row["handoff_id"],
            row["status"],
            contact.get("name") or contact.get("email") or "-",
            account.get("name") or "-",
            rep.get("email") or rep.get("rep_id") or "(unrouted)",
            row["fit_grade"] or "-",
            f"{row['score']:.1f}",
            _sla(sla),
            row["created_at"][:16].replace("T", " "),
        )
    console.print(table)
    if page["next_cursor"]:
        console.print(f"more: leadflow handoffs queue --cursor {page['next_cursor']}")
    elif not page["handoffs"]:
        console.print("no handoffs match")


def _sla(sla: dict[str, Any]) -> str:
    colour = SLA_COLOURS.get(sla["state"], "white")
    due = f" due {sla['due_at'][:16].replace('T', ' ')}" if sla.get("due_at") else ""
    return f"[{colour}]{sla['state']}[/{colour}]{due}"


@handoffs.command("show")
def show(handoff_id: uuid.UUID, api_url: ApiUrl = None, token: Token = "") -> None:
    """A handoff's dossier: contact, account, why MQL now, buying committee, last touches, SLA and routing."""
    api = Api(api_url, token)
    row = api.call("GET", f"/v1/handoffs/{handoff_id}")
    dossier = row["dossier"]
    rep = row["rep"] or {}
    console.print(f"[bold]handoff {row['handoff_id']}[/bold] {escape(row['status'])}, version {row['version']}")
    who = escape(f"{rep.get('name') or '-'} {rep.get('email') or '(unrouted)'}")
    console.print(f"  rep: {who}   SLA: {_sla(row['sla'])}")
    console.print(f"  you may: {', '.join(row['allowed_actions']) or 'nothing (closed)'}")
    contact = dossier.get("contact") or {}
    name = " ".join(part for part in (contact.get("first_name"), contact.get("last_name")) if part)
    person = f"{name or '-'} <{contact.get('email', '-')}> {contact.get('title') or ''}"
    console.print(f"[bold]contact[/bold]: {escape(person)}")
    account = dossier.get("account")
    if account:
        facts = [account.get(key) for key in ("industry", "country", "region", "employee_band")]
        known = ", ".join(str(fact) for fact in facts if fact)
        console.print(f"[bold]account[/bold]: {escape(str(account.get('name') or '-'))} ({escape(known)})")
    why = dossier.get("why_now") or {}
    summary = escape(str(why.get("summary", "-")))
    console.print(f"[bold]why now[/bold]: {summary} (definition v{dossier.get('definition_version')})")
    for hit in why.get("top_rules", []):
        console.print(f"  {hit['points']:+.1f} {escape(str(hit.get('label') or hit['rule_id']))}")
    _committee(dossier.get("buying_committee") or {})
    touches = Table("when", "touch", "channel", "campaign", title="Recent touches")
    for touch in dossier.get("recent_touches", []):
        when = str(touch.get("occurred_at", ""))[:16].replace("T", " ")
        touches.add_row(
            when, str(touch.get("touch_type", "-")), str(touch.get("channel") or "-"), str(touch.get("campaign") or "-")
        )
    console.print(touches)
    _routing(api.call("GET", f"/v1/handoffs/{handoff_id}/routing")["decisions"])


def _committee(committee: dict[str, Any]) -> None:
    table = Table("name", "email", "title", "buying role", "engaged", "last touch", title="Buying committee")
    for member in committee.get("members", []):
        table.add_row(
            member.get("name") or "-",
            member.get("email") or "-",
            member.get("title") or "-",
            member.get("buying_role") or "?",
            "yes" if member.get("engaged") else "no",
            (member.get("last_touch_at") or "-")[:10],
        )
    console.print(table)
    if committee.get("missing_roles"):
        console.print(f"  roles still missing: {', '.join(committee['missing_roles'])}")


def _routing(decisions: list[dict[str, Any]]) -> None:
    for decision in decisions:
        winner = (decision.get("rep") or {}).get("email") or "(unrouted)"
        console.print(
            f"[bold]routing[/bold] {decision['decided_at'][:16].replace('T', ' ')} ({decision['trigger']}, "
            f"org v{decision['org_version']}): {escape(winner)} by "
            f"{escape(str(decision.get('routing_rule', decision['method'])))}: {escape(decision['why'])}"
        )
        for rule in decision.get("rules_tried", []):
            verdict = "matched" if rule["matched"] else "not matched"
            console.print(f"  rule {rule['number']} {escape(rule['name'])}: {verdict}")
        for candidate in decision.get("candidates", []):
            verdict = f"skipped: {candidate['skipped']}" if candidate.get("skipped") else "eligible"
            pointer = f" pointer {candidate['pointer']:.3f}" if candidate.get("pointer") is not None else ""
            who = escape(str(candidate.get("email") or candidate["rep_id"]))
            console.print(f"  {candidate['step']}: {who} {verdict}{pointer}")
        for note in decision.get("notes", []):
            console.print(f"  note: {escape(note)}")
