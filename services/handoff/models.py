"""Tables of handoff: every table is declared on services.handoff.base.Base; imported here so Alembic sees all."""

from __future__ import annotations

from services.handoff.base import Base
from services.handoff.org import models as org_models

__all__ = ["Base", "org_models"]
