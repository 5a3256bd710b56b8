"""The `leadflow` command: run the services, migrate, export contracts, issue tokens."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from sqlalchemy.engine import make_url

from auth.tokens import ROLES, issue_token
from database import migrate
from database.engine import make_engine
from events.envelope import utc_now
from kernel.service import Context
from kernel.settings import Settings
from leadflow.app import SERVICES, build_services, create_app, open_event_log, timer_scheduler
from leadflow.cli_client import load_settings
from leadflow.cli_definition import definition
from leadflow.cli_handoffs import handoffs
from leadflow.cli_nurture import nurture
from leadflow.cli_routing import routing
from leadflow.logs import configure_logging
from leadflow.runtime import stop_on_signals

app = typer.Typer(help="leadflow: lead management between B2B marketing and sales.", no_args_is_help=True)
db = typer.Typer(help="Database migrations (for operators: they need LEADFLOW_DATABASE_URL).", no_args_is_help=True)
contracts = typer.Typer(help="The event and API contracts in contracts/.", no_args_is_help=True)
token = typer.Typer(help="API tokens.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(contracts, name="contracts")
app.add_typer(token, name="token")
app.add_typer(definition, name="definition")
app.add_typer(routing, name="routing")
app.add_typer(handoffs, name="handoffs")
app.add_typer(nurture, name="nurture")

REPO = Path(__file__).resolve().parent.parent
log = logging.getLogger("leadflow")


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.effective_log_format, settings.log_level)
    return settings


def _database(settings: Settings, *, create: bool = False) -> str:
    """The database URL; a SQLite file that does not exist is refused in one line, unless the command creates it."""
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        path = Path(str(url.database)).resolve()
        if not path.exists() and not create:
            typer.echo(
                f"no leadflow database at {path}: set LEADFLOW_DATABASE_URL to it "
                "(or run `leadflow db upgrade` to create one there)",
                err=True,
            )
            raise typer.Exit(2)
    return settings.database_url


@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Run every service in one process on the embedded default: the SQLite file of LEADFLOW_DATABASE_URL (created
    if missing, ./leadflow.db by default) and the SQL event log."""
    settings = _settings()
    migrate.upgrade(make_engine(_database(settings, create=True)))
    if settings.environment == "local":
        _print_local_tokens(settings)
    host, port = host or settings.http_host, port or settings.http_port
    log.info("API on http://%s:%s (docs at /docs), database %s", host, port, settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)


def _print_local_tokens(settings: Settings) -> None:
    secret = settings.secret_key.get_secret_value()
    typer.echo("Local tokens (LEADFLOW_ENVIRONMENT=local; valid 30 days):", err=True)
    for role in ROLES:
        value = issue_token(secret, f"local-{role}", role, utc_now() + timedelta(days=30))
        typer.echo(f"  {role:<21} {value}", err=True)


@app.command()
def run(
    service: Annotated[str, typer.Argument(help=f"One of: {', '.join(SERVICES)}, or scheduler.")],
    port: Annotated[int | None, typer.Option(help="Port of the service's HTTP API.")] = None,
) -> None:
    """For operators: run one service (its consumers and its API), or the timer scheduler alone, until SIGTERM, on
    the database of LEADFLOW_DATABASE_URL (migrated by `leadflow db upgrade`)."""
    settings = _settings()
    _database(settings)
    if service == "scheduler":
        engine = make_engine(settings.database_url)
        context = Context(settings=settings, engine=engine, log=open_event_log(settings, engine))
        log.info("firing every service's timers from %s", settings.database_url)
        timer_scheduler(context, build_services(list(SERVICES), context)).run(stop_on_signals())
        return
    if service not in SERVICES:
        raise typer.BadParameter(f"choose one of {', '.join(SERVICES)}, or scheduler", param_hint="SERVICE")
    application = create_app(settings, [service], run_relay=False, run_scheduler=False)
    uvicorn.run(application, host=settings.http_host, port=port or settings.http_port, log_config=None)


@app.command()
def relay() -> None:
    """For operators: publish the outbox of LEADFLOW_DATABASE_URL's database to Kafka until SIGTERM."""
    settings = _settings()
    event_log = open_event_log(settings, make_engine(_database(settings)))
    outbox_relay = event_log.relay()
    if outbox_relay is None:
        raise typer.BadParameter("the SQL event log needs no relay; set LEADFLOW_EVENT_LOG=kafka")
    log.info("relaying the outbox to Kafka at %s", settings.kafka_bootstrap)
    outbox_relay.run(stop_on_signals())


@db.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """For operators: migrate every service's tables of LEADFLOW_DATABASE_URL's database to `revision` (a SQLite
    file is created if missing: ./leadflow.db by default)."""
    url = _database(_settings(), create=True)
    migrate.upgrade(make_engine(url), revision)
    typer.echo(f"database {make_url(url).render_as_string(hide_password=True)} is up to date")


@db.command("downgrade")
def db_downgrade(revision: str = "base") -> None:
    """For operators: migrate every service's tables of LEADFLOW_DATABASE_URL's database back to `revision`
    (default: drop them all)."""
    migrate.downgrade(make_engine(_database(_settings())), revision)
    typer.echo(f"database downgraded to {revision}")


@db.command("current")
def db_current() -> None:
    """For operators: show the revision of each service's tables in LEADFLOW_DATABASE_URL's database."""
    for owner, revision in migrate.current(make_engine(_database(_settings()))).items():
        typer.echo(f"{owner:<14} {revision or '(none)'}")


@contracts.command("export")
def contracts_export(root: Annotated[Path, typer.Option(help="Repository root.")] = REPO) -> None:
    """Regenerate contracts/ from the models in code."""
    from leadflow.contracts import export_all

    for path in export_all(root):
        typer.echo(str(path.relative_to(root)))


@token.command("issue")
def token_issue(
    subject: Annotated[str, typer.Option(help="Who the token is for, e.g. a rep's id or a system's name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    days: Annotated[int, typer.Option(help="Days until it expires.")] = 90,
) -> None:
    """For operators: issue a bearer token, signed with LEADFLOW_SECRET_KEY (the API's own)."""
    settings = _settings()
    try:
        value = issue_token(settings.secret_key.get_secret_value(), subject, role, utc_now() + timedelta(days=days))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--role") from None
    typer.echo(value)
