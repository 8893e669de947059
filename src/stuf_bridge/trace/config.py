"""The ``trace:`` settings (YAML config file, or ``STUF_BRIDGE_TRACE`` as JSON): what is traced, how much is kept."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class TraceMode(enum.StrEnum):
    OFF = "off"  # nothing is traced
    ALL = "all"  # every message
    SOME = "some"  # only the messages of ``senders`` or ``operations``


class TraceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: TraceMode = Field(default=TraceMode.ALL, description="`off`, `all`, or `some` (only the senders and "
                            "operations listed below).")
    senders: list[str] = Field(default_factory=list, description="With mode `some`: senders traced, as "
                               "`organisatie/applicatie` (either may be `*`).")
    operations: list[str] = Field(default_factory=list, description="With mode `some`: operations traced "
                                  "(`creeerZaak_Lk01`, or the function `creeerZaak`).")
    retention_days: float = Field(default=14.0, gt=0, description="Traces older than this are pruned.")
    max_total_mb: float = Field(default=512.0, gt=0, description="The trace store's size limit: above it the "
                                "oldest traces are pruned.")
    max_body_bytes: int = Field(default=65536, ge=256, description="A body (request, answer, a call's) is cut at "
                                "this many characters, with a visible marker.")
    store_bsn: bool = Field(default=False, description="Keep BSNs unmasked in the trace (default: masked, as in "
                            "the logs). Only for deployments that must.")
    flush_seconds: float = Field(default=0.5, gt=0, description="Traces are written in batches this often (off "
                                 "the message's path); a message still running then shows as in progress.")
    in_progress_after_seconds: float = Field(default=1.0, ge=0, description="A message still running after this "
                                             "long is written as in progress (faster ones only once answered).")
    queue_limit: int = Field(default=10000, ge=10, description="Traces waiting to be written; beyond it new "
                             "ones are dropped (and counted), never the messages slowed down.")
    prune_seconds: float = Field(default=600.0, gt=0, description="Seconds between two prunes.")

    @field_validator("mode", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML 1.1 reads an unquoted `off` as false

    @field_validator("senders")
    @classmethod
    def _check_senders(cls, value: list[str]) -> list[str]:
        for key in value:
            if key.count("/") != 1:
                raise ValueError(f"trace sender {key!r} must be 'organisatie/applicatie' (either may be '*')")
        return value

    def wants(self, operation: str | None, organisatie: str | None, applicatie: str | None) -> bool:
        """True when a message of this operation from this sender is traced."""
        if self.mode is TraceMode.OFF:
            return False
        if self.mode is TraceMode.ALL:
            return True
        if operation is not None and (operation in self.operations or operation.split("_")[0] in self.operations):
            return True
        for key in self.senders:
            org, app = key.split("/")
            if org in ("*", organisatie or "") and app in ("*", applicatie or ""):
                return True
        return False
