"""The projection's tables: contacts and accounts as the leads topic describes them, and the published SLAs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from services.handoff.base import Base


class ProjectedContact(Base):
    """A contact as lead.scored and lead.qualified describe them: who, their role, stage, scores and last touches."""

    __tablename__ = "handoff_contact"

    contact_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    account_key: Mapped[str] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, comment="phone, linkedin_url, country, first/last name")
    buying_role: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str | None] = mapped_column(String(20))
    fit_score: Mapped[float | None] = mapped_column(Float)
    fit_grade: Mapped[str | None] = mapped_column(String(1))
    engagement_score: Mapped[float | None] = mapped_column(Float)
    last_touch_at: Mapped[datetime | None]
    recent_touches: Mapped[list[Any]] = mapped_column(JSON, comment="newest first, at most 20")
    updated_at: Mapped[datetime] = mapped_column(comment="the time of the newest event applied")


class ProjectedAccount(Base):
    """An account's firmographics as lead.qualified carries them."""

    __tablename__ = "handoff_account"

    account_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_key: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(320))
    domain: Mapped[str | None] = mapped_column(String(253))
    industry: Mapped[str | None] = mapped_column(Text)
    employees: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(2))
    crm_account_id: Mapped[str | None] = mapped_column(String(200))
    engaged_contacts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class PublishedTerms(Base):
    """What a published definition version agreed for handoffs: the SLA, the rejection reasons, the committee."""

    __tablename__ = "handoff_definition"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    sla: Mapped[dict[str, Any]] = mapped_column(JSON)
    rejection_reasons: Mapped[list[Any]] = mapped_column(JSON, comment="[{code, label, recycle}]")
    required_roles: Mapped[list[str]] = mapped_column(JSON, comment="roles the buying committee needs")
    published_at: Mapped[datetime] = mapped_column(comment="the latest publication (a rollback publishes again)")
