"""Everything in contracts/ that is generated from code: event schemas, AsyncAPI, the JSON Schemas of the lead
definition, calendars, routing configuration and nurture tracks for editors, and the OpenAPI document of the
HTTP API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from calendars.config import calendar_json_schema
from events.contracts import export_contracts


def _json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def export_all(root: Path) -> list[Path]:
    """Write every generated contract under `root`/contracts; return the files written."""
    from kernel.settings import Settings
    from leadflow.app import create_app
    from services.handoff.org.document import routing_json_schema
    from services.lead_scoring.definitions.document import definition_json_schema
    from services.nurture.tracks.document import nurture_track_json_schema

    written = export_contracts(root)
    contracts = root / "contracts"
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "contracts/lead_definition.schema.json",
        **definition_json_schema(),
    }
    written.append(_write(contracts / "lead_definition.schema.json", _json_text(schema)))
    written.append(_write(contracts / "calendar.schema.json", _json_text(calendar_json_schema())))
    written.append(_write(contracts / "routing.schema.json", _json_text(routing_json_schema())))
    written.append(_write(contracts / "nurture_track.schema.json", _json_text(nurture_track_json_schema())))
    openapi = create_app(Settings(database_url="sqlite://")).openapi()
    written.append(_write(contracts / "openapi" / "leadflow.json", _json_text(openapi)))
    return written


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
