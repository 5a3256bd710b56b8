"""Settings from the environment (LEADFLOW_*), one object for every process."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-local-only"


class Settings(BaseSettings):
    """Every setting of leadflow; the README's configuration table is generated from these fields."""

    model_config = SettingsConfigDict(env_prefix="LEADFLOW_", env_file=".env", extra="ignore")

    environment: Literal["local", "production"] = Field(
        default="local", description="`production` refuses default secrets and logs JSON."
    )
    database_url: str = Field(
        default="sqlite:///./leadflow.db",
        description="SQLAlchemy URL: a SQLite file (embedded default) or postgresql+psycopg://...",
    )
    event_log: Literal["sql", "kafka"] = Field(
        default="sql", description="`sql`: the outbox table is the log; `kafka`: outbox relayed to Kafka."
    )
    kafka_bootstrap: str = Field(default="localhost:9092", description="Kafka bootstrap servers.")
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic and consumer group, e.g. `staging.` to share a cluster."
    )
    kafka_partitions: int = Field(default=6, ge=1, description="Partitions of topics leadflow creates.")
    batch_size: int = Field(default=500, ge=1, description="Most events a consumer handles in one transaction.")
    stuck_after_s: float = Field(
        default=120.0,
        gt=0,
        description="`/ready` answers 503 naming a consumer busy on one batch, or a relay with rows pending and "
        "no progress, for longer than this.",
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(default=8000, description="Port of the HTTP API.")
    api_url: str | None = Field(
        default=None,
        description="The API the CLI talks to; default http://<http_host>:<http_port>. The CLI's token is read "
        "from LEADFLOW_TOKEN.",
    )
    log_format: Literal["json", "console"] | None = Field(
        default=None, description="Log format; default console locally, JSON in production."
    )
    log_level: str = Field(default="INFO", description="Log level.")
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET), description="Signs API tokens; must be set in production."
    )
    mautic_webhook_secret: SecretStr | None = Field(
        default=None, description="When set, Mautic webhooks must carry a valid Webhook-Signature (else 401)."
    )
    hubspot_client_secret: SecretStr | None = Field(
        default=None,
        description="When set, HubSpot webhooks must carry a valid X-HubSpot-Signature-v3, at most 5 minutes old.",
    )

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError("LEADFLOW_SECRET_KEY must be set to a secret of your own in production")
        return self

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        """The log format in force."""
        return self.log_format or ("json" if self.environment == "production" else "console")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
