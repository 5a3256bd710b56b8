"""A routing document checked across its sections and turned into the SalesOrg routing decides on.

Pure. Every problem names the rule (numbered from 1, with its name), rep (by email), team or calendar, and the
field, so sales ops can fix a configuration from the message alone.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from calendars import Calendar, CalendarError, build_calendar
from services.handoff.org.document import DocumentProblem, RoutingDocument, RoutingDocumentError, rep_id
from services.handoff.routing.model import (
    Absence,
    Condition,
    Rep,
    RoutingConfigError,
    RoutingRule,
    SalesOrg,
    Target,
)


@dataclass(frozen=True)
class RepProfile:
    """Who a rep is, beside what routing needs: email, name, team, role and their team's manager."""

    id: uuid.UUID
    email: str
    name: str
    team: str
    role: Literal["rep", "manager"]
    manager_id: uuid.UUID | None  # the manager of the rep's team; None for the manager themself, or no manager
    active: bool = True


@dataclass(frozen=True)
class TeamProfile:
    """A team: its manager (a rep id) and region."""

    name: str
    manager_id: uuid.UUID | None
    region: str | None
    label: str | None = None


@dataclass(frozen=True)
class CurrentOrg:
    """The routing configuration in force: its version, the SalesOrg routing decides on, and who the reps are."""

    version: int
    org: SalesOrg
    reps: Mapping[uuid.UUID, RepProfile]
    teams: Mapping[str, TeamProfile] = field(default_factory=dict)
    # Account email domain -> the rep who owns the account (the CRM owner of the document's owns_accounts).
    account_owners: Mapping[str, uuid.UUID] = field(default_factory=dict)
    _by_email: Mapping[str, RepProfile] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_email", {profile.email: profile for profile in self.reps.values()})

    def rep_by_email(self, email: str) -> RepProfile | None:
        """The rep with this email (any case), or None."""
        return self._by_email.get(email.casefold())

    def owner_of_domain(self, domain: str) -> uuid.UUID | None:
        """The rep who owns the account of this email domain, or None."""
        return self.account_owners.get(domain.casefold())


def check_document(document: RoutingDocument) -> list[DocumentProblem]:
    """Every problem across sections: duplicates, unknown teams, calendars and reps, pools without reps."""
    problems: list[DocumentProblem] = []

    def fail(path: str, who: str, name: str, reason: str) -> None:
        problems.append(DocumentProblem(field=f"{path}.{name}", message=f"{who}: {name}: {reason}"))

    teams = {team.name for team in document.teams}
    emails: dict[str, int] = {}
    owners: dict[str, str] = {}
    seen: dict[str, int] = {}
    for index, team in enumerate(document.teams):
        if team.name in seen:
            fail(f"teams.{index}", f"team {team.name}", "name", f"listed twice (also teams[{seen[team.name]}])")
        seen.setdefault(team.name, index)
    for index, rep in enumerate(document.reps):
        path, who = f"reps.{index}", f"rep {rep.email}"
        if rep.email in emails:
            fail(path, who, "email", f"listed twice (also reps[{emails[rep.email]}])")
        emails.setdefault(rep.email, index)
        if rep.team not in teams:
            fail(path, who, "team", f"unknown team {rep.team!r} (known: {', '.join(sorted(teams)) or 'none'})")
        if rep.calendar not in document.calendars:
            known = ", ".join(sorted(document.calendars)) or "none"
            fail(path, who, "calendar", f"unknown calendar {rep.calendar!r} (known: {known})")
        for domain in rep.owns_accounts:
            if owners.setdefault(domain, rep.email) != rep.email:
                fail(path, who, "owns_accounts", f"{domain} is already owned by {owners[domain]}")
    reps = {rep.email: rep for rep in document.reps}
    for index, team in enumerate(document.teams):
        manager = reps.get(team.manager) if team.manager else None
        if team.manager and (manager is None or manager.role != "manager"):
            reason = "not a rep of this document" if manager is None else "that rep's role is not manager"
            fail(f"teams.{index}", f"team {team.name}", "manager", f"{team.manager}: {reason}")
    pools = {rep.team for rep in document.reps if rep.role == "rep"}
    names: dict[str, int] = {}
    for index, rule in enumerate(document.rules):
        path, who = f"rules.{index}", f"rule {index + 1} ({rule.name})"
        if rule.name in names:
            fail(path, who, "name", f"the same name as rule {names[rule.name] + 1}")
        names.setdefault(rule.name, index)
        target = rule.target
        if target.kind == "rep" and target.rep not in reps:
            fail(path, who, "target.rep", f"unknown rep {target.rep}")
        if target.kind == "pool" and target.team not in teams:
            fail(path, who, "target.team", f"unknown team {target.team!r}")
        elif target.kind == "pool" and target.team not in pools:
            fail(path, who, "target.team", f"team {target.team!r} has no rep with role rep in its pool")
    return problems + _calendar_problems(document)


def _calendar_problems(document: RoutingDocument) -> list[DocumentProblem]:
    problems = []
    for name, spec in document.calendars.items():
        try:
            build_calendar(name, spec)
        except CalendarError as error:
            # build_calendar says "calendar <name>: <field>: <reason>"; the field path is the part before the reason.
            field_path = str(error).split(": ")[1] if str(error).count(": ") >= 2 else ""
            field_path = re.sub(r"\[(\d+)\]", r".\1", field_path)  # monday[0] -> monday.0, as pydantic's paths
            problems.append(DocumentProblem(field=f"calendars.{name}.{field_path}".rstrip("."), message=str(error)))
    return problems


def build_org(version: int, document: RoutingDocument) -> CurrentOrg:
    """The CurrentOrg of a document; RoutingDocumentError if it does not check."""
    problems = check_document(document)
    if problems:
        raise RoutingDocumentError(problems)
    calendars: dict[str, Calendar] = {name: build_calendar(name, spec) for name, spec in document.calendars.items()}
    try:
        org = to_sales_org(document, calendars)
    except RoutingConfigError as error:  # checked above; a second line of defence that still names the field
        raise RoutingDocumentError([DocumentProblem(field="body", message=str(error))]) from None
    managers = {team.name: rep_id(team.manager) if team.manager else None for team in document.teams}
    profiles = {}
    for rep in document.reps:
        identity = rep_id(rep.email)
        manager = managers.get(rep.team)
        profiles[identity] = RepProfile(
            id=identity,
            email=rep.email,
            name=rep.name,
            team=rep.team,
            role=rep.role,
            manager_id=None if manager == identity else manager,
            active=rep.active,
        )
    teams = {
        team.name: TeamProfile(name=team.name, manager_id=managers[team.name], region=team.region, label=team.label)
        for team in document.teams
    }
    owners = {domain: rep_id(rep.email) for rep in document.reps for domain in rep.owns_accounts}
    return CurrentOrg(version=version, org=org, reps=profiles, teams=teams, account_owners=owners)


def to_sales_org(document: RoutingDocument, calendars: Mapping[str, Calendar]) -> SalesOrg:
    """The SalesOrg of a document whose calendars are built; RoutingConfigError if it cannot route."""
    reps = tuple(
        Rep(
            rep_id=rep_id(rep.email),
            team=rep.team,
            calendar=rep.calendar,
            role=rep.role,
            max_open=rep.max_open,
            max_new_per_day=rep.max_new_per_day,
            weight=rep.weight,
            out_of_office=tuple(Absence(start=absence.start, end=absence.end) for absence in rep.out_of_office),
            active=rep.active,
        )
        for rep in document.reps
    )
    rules = tuple(
        RoutingRule(
            name=rule.name,
            conditions=tuple(
                Condition(
                    field=condition.field, op="eq" if condition.eq is not None else "in", values=condition.values()
                )
                for condition in rule.conditions
            ),
            target=Target(
                kind=rule.target.kind,
                rep_id=rep_id(rule.target.rep) if rule.target.rep else None,
                team=rule.target.team,
            ),
            respect_working_hours=rule.respect_working_hours,
        )
        for rule in document.rules
    )
    return SalesOrg(reps=reps, rules=rules, calendars=calendars)
