"""The declarative base of nurture's tables, in the `nurture` schema; every nurture table derives from it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from database.base import schema_metadata
from database.types import UtcDateTime


class Base(DeclarativeBase):
    """Tables of nurture, in the `nurture` schema."""

    metadata = schema_metadata("nurture")
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[str]: JSON}
