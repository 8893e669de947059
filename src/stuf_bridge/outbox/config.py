"""The ``outbox:`` settings (YAML config file, or ``STUF_BRIDGE_OUTBOX`` as JSON): how the worker delivers."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class OutboxSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Run the delivery worker in this process (when a legacy side is "
                          "configured). Off: items wait for a process that runs it.")
    poll_seconds: float = Field(default=0.5, gt=0, description="Seconds between two looks when nothing is due.")
    backoff_base_seconds: float = Field(default=1.0, gt=0, description="Delay after the first failed attempt; "
                                        "doubled after each next one (with jitter: between half and all of it).")
    backoff_max_seconds: float = Field(default=300.0, gt=0, description="The longest delay between two attempts.")
    max_attempts: int = Field(default=20, ge=1, description="Attempts before an item that keeps failing is dead.")
    lease_seconds: float = Field(default=300.0, gt=0, description="How long a claimed item is the worker's; after "
                                 "that (its process died) it is pending again. Longer than a delivery can take.")

    inline_bytes: int = Field(default=256 * 1024, ge=0, description="A secondary leg's message up to this size is "
                              "kept in its outbox row; a larger one (a document) in chunks beside it, never whole in "
                              "memory.")
    intent_seconds: float = Field(default=900.0, gt=0, description="An intent item (written before the primary "
                                  "call) still held after this long belongs to a process that died before the "
                                  "answer was stored: the sweep then settles it. Longer than a primary call can take.")
    retention_hours: float = Field(default=168.0, gt=0, description="Delivered and skipped items (and their "
                                   "payloads) are purged this long after they finished.")

    @model_validator(mode="after")
    def _max_over_base(self) -> Self:
        if self.backoff_max_seconds < self.backoff_base_seconds:
            raise ValueError("outbox.backoff_max_seconds must be at least outbox.backoff_base_seconds")
        return self
