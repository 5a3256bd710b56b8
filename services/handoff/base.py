"""The declarative base of handoff's tables, in the `handoff` schema (sub-packages declare their tables on it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from database.base import schema_metadata
from database.types import UtcDateTime


class Base(DeclarativeBase):
    """Tables of handoff, in the `handoff` schema."""

    metadata = schema_metadata("handoff")
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}
