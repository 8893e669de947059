"""The ``recovery:`` settings (YAML config file, or ``STUF_BRIDGE_RECOVERY`` as JSON): the step journal and the
recovery of unfinished messages (docs/recovery.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class RecoverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Journal every ZGW write of a claimed message and recover "
                          "unfinished messages. Off: a failed message is only compensated as far as its answers "
                          "came back, and a dead process's claim waits for idempotency_stale_seconds.")
    lease_seconds: float = Field(default=30.0, gt=0, description="How long this process's hold on its messages "
                                 "lasts without renewal; after that (it died) another process on the same store "
                                 "resolves them and takes resends over. A process on the same host is known to be "
                                 "gone at once (its pid no longer runs).")
    sweep_seconds: float = Field(default=30.0, gt=0, description="Seconds between two sweeps that renew the lease and "
                                 "resolve unfinished messages (those of gone processes, and those whose undo failed "
                                 "because ZGW was away).")
    settle_seconds: float = Field(default=60.0, ge=0, description="A ZGW write whose answer was lost counts as not "
                                  "done only when it is not in ZGW this many seconds after it was sent (a slow "
                                  "backend may finish it after the gateway stopped waiting). Longer than zgw_timeout.")
