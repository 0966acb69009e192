"""Configuration from environment variables (one place; documented in the README)."""

from __future__ import annotations

import secrets
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from authz.catalogue import Level
from authz.passwords import TEST_ONLY_PROFILES, PasswordProfile
from resolvers.budgets import DEFAULT_EXPORT_ROWS_PER_DAY, DEFAULT_QUERY_COST_PER_MINUTE, BudgetPolicy


class Settings(BaseSettings):
    """Every knob the app reads. Unset `database_url` means the embedded PostgreSQL."""

    model_config = SettingsConfigDict(env_prefix="BAOXUE_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    read_replica_url: str | None = Field(
        default=None,
        description="A read replica of DATABASE_URL: GraphQL queries read there; mutations, sign-in, "
        "grant sync and every audit row stay on the primary (docs/SCALING.md).",
    )
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("baoxue")),
        description="Where the embedded PostgreSQL and the development JWT secret live.",
    )
    env: Literal["development", "production"] | None = Field(
        default=None,
        description="Unset: development on the embedded database, production on DATABASE_URL.",
    )
    jwt_secret: str | None = None
    jwt_public_keys: str | None = Field(
        default=None,
        description="PEM public keys (or paths to PEM files), separated by ';', for RS256 tokens.",
    )
    jwt_issuer: str = "baoxue"
    jwt_external_issuer: str | None = Field(default=None, description="Required `iss` of RS256 tokens, if set.")
    jwt_audience: str = "baoxue"
    access_token_ttl_seconds: int = 3600
    login_max_failures_per_user: int = 5
    login_max_failures_per_client: int = 30
    login_window_seconds: int = 900
    cors_origins: str = Field(default="", description="Comma-separated allowed origins.")
    log_level: str = "INFO"
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (login throttle, logs). Empty: none, the peer address is the client.",
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper sends to read /metrics. Unset: /metrics answers 404.",
    )
    change_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days the change feed keeps changes; `baoxue changes prune` deletes older ones, and a "
        "cursor older than what it deleted answers CURSOR_EXPIRED (README, Integrators).",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=500,
        description="Connections each server process keeps open to PostgreSQL (and to the read replica). "
        "Requests beyond them open one more each, closed after use: keep it at the requests one process "
        "serves at once.",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=500, description="Connections opened beyond the pool under a burst, then closed."
    )
    max_query_depth: int = 10
    max_query_tokens: int = 2000
    max_query_aliases: int = 15
    max_query_cost: int = 10000
    persisted_only: bool = Field(
        default=False,
        description="Refuse ad-hoc documents: only operations registered with `baoxue operations add` run "
        "(README, Persisted operations).",
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer the hot reads (students, ledgerEntries, schoolAgeChildren, reports and node on "
        "their types) from one SQL statement that builds the JSON in "
        "PostgreSQL (issue 18 §2); false resolves every field through strawberry (the tests and the bench "
        "compare the two).",
    )
    query_budgets: dict[Level, int | None] = Field(
        default_factory=lambda: dict(DEFAULT_QUERY_COST_PER_MINUTE),
        description="Query cost an account may spend per minute, by its highest level, as JSON: "
        '{"SCHOOL": 30000, …}; levels left out keep their default; null: not counted (README, Budgets).',
    )
    export_rows_per_day: dict[Level, int] = Field(
        default_factory=lambda: dict(DEFAULT_EXPORT_ROWS_PER_DAY),
        description="Export rows an account may receive per day, by its highest level, as JSON (as above); "
        "a permission admin may set one account's own (setExportBudget).",
    )
    live_queue_size: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Live events queued per subscription before its WebSocket is closed with 4413 SLOW_CONSUMER "
        "(README, Live events).",
    )
    live_deadline_check_seconds: float = Field(
        default=600,
        gt=0,
        le=86_400,
        description="How often each `reportEvents` subscription looks at its units' deadlines (README, Live events).",
    )
    live_today: date | None = Field(
        default=None,
        description="Tests and demos only (refused in production): the day deadline events count from, "
        "instead of today in China.",
    )
    password_hasher: PasswordProfile = Field(
        default="recommended",
        description="argon2 parameters for new password hashes: `recommended`, or `fast` for test runs "
        "(refused in production).",
    )

    @model_validator(mode="after")
    def _fast_hasher_never_in_production(self) -> Settings:
        if self.password_hasher in TEST_ONLY_PROFILES and self.production:
            raise ValueError(
                "BAOXUE_PASSWORD_HASHER=fast is for tests; production keeps argon2's recommended parameters"
                " / 生产环境只用 argon2 推荐参数"
            )
        if self.live_today is not None and self.production:
            raise ValueError("BAOXUE_LIVE_TODAY is for tests and demos / 生产环境不能设置 BAOXUE_LIVE_TODAY")
        return self

    @field_validator("query_budgets", "export_rows_per_day", mode="before")
    @classmethod
    def _levels_by_name(cls, value: object) -> object:
        """Levels by name (`"PROVINCE"`), as JSON keys are."""
        if isinstance(value, dict):
            return {Level[k] if isinstance(k, str) else k: v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _budgets_for_every_level(self) -> Settings:
        self.query_budgets = {**DEFAULT_QUERY_COST_PER_MINUTE, **self.query_budgets}
        self.export_rows_per_day = {**DEFAULT_EXPORT_ROWS_PER_DAY, **self.export_rows_per_day}
        counted = [v for v in self.query_budgets.values() if v is not None]
        if min([*counted, *self.export_rows_per_day.values()]) < 0:
            raise ValueError("budgets must not be negative / 额度不能为负")
        return self

    @property
    def budget_policy(self) -> BudgetPolicy:
        return BudgetPolicy(self.query_budgets, self.export_rows_per_day)

    @property
    def embedded(self) -> bool:
        return not self.database_url

    @property
    def environment(self) -> Literal["development", "production"]:
        if self.env is not None:
            return self.env
        return "development" if self.embedded else "production"

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @cached_property
    def signing_secret(self) -> str:
        """The HS256 secret: configured, or (development only) one kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.production:
            raise RuntimeError("BAOXUE_JWT_SECRET must be set in production / 生产环境必须设置 BAOXUE_JWT_SECRET")
        path = self.data_dir / "jwt-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    @cached_property
    def rs256_public_keys(self) -> list[str]:
        """PEM texts for RS256 verification, from inline PEMs or file paths."""
        keys: list[str] = []
        for item in (self.jwt_public_keys or "").split(";"):
            item = item.strip()
            if not item:
                continue
            keys.append(item if "BEGIN" in item else Path(item).read_text())
        return keys
