"""Tables of the sales org: one row per saved version of the routing document, and the audit of every change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.handoff.base import Base

Serial = BigInteger().with_variant(Integer(), "sqlite")


class RoutingOrgVersion(Base):
    """A saved routing configuration; the highest version is in force. Versions are never changed or removed."""

    __tablename__ = "routing_org_version"

    # The primary key makes two concurrent saves of the same next version collide: one wins, the other is refused.
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # sha256 of the canonical JSON: a parsed org is cached by it, so a reader loads the document only when it changed.
    digest: Mapped[str] = mapped_column(String(64))
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime]
    summary: Mapped[str] = mapped_column(Text, comment="what changed from the previous version, in one line")


class RoutingOrgAudit(Base):
    """Who changed the sales org, when, how, and what changed, one readable line per change."""

    __tablename__ = "routing_org_audit"

    id: Mapped[int] = mapped_column(Serial, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, comment="the version the change saved")
    actor: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32), comment="replace (a whole document) or rep.update")
    at: Mapped[datetime]
    changes: Mapped[list[str]] = mapped_column(JSON)
