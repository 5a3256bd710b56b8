"""The contacts nurture knows: a projection of the leads topic and of consent touches, never lead_scoring's tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.nurture.base import Base


class NurtureContact(Base):
    """One lead as nurture sees it: stage, fit, segment, role, how to reach it and whether it may be reached."""

    __tablename__ = "nurture_contact"

    contact_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    account_key: Mapped[str] = mapped_column(String(320))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    fit_grade: Mapped[str | None] = mapped_column(String(1))
    industry: Mapped[str | None] = mapped_column(String(1000))
    employees: Mapped[int | None] = mapped_column(Integer)
    country: Mapped[str | None] = mapped_column(String(2))
    time_zone: Mapped[str | None] = mapped_column(String(64))
    buying_role: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str | None] = mapped_column(String(200), comment="the channel of the first touch seen")
    campaigns: Mapped[list[str]] = mapped_column(JSON, comment="campaigns the contact touched (the latest 50)")
    marketing_consent: Mapped[bool | None] = mapped_column(Boolean)
    unsubscribed_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    # The time of the newest lead.scored applied: an older one arriving late changes nothing.
    scored_at: Mapped[datetime | None]
    mql_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
