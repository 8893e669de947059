"""``reconcile:`` in the settings (``STUF_BRIDGE_RECONCILE`` as JSON): the gateway's scheduled reconcile
(``scheduled.py``; docs/migration.md, "Scheduled reconcile"). Off by default.

``migration:`` (``STUF_BRIDGE_MIGRATION`` as JSON): how the copy (back-fill, migrate, repair) finds a legacy zaak's
zaaktype in ZGW (``zaaktypen.py``; docs/migration.md, "Zaaktype codes")."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReconcileSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scheduled: bool = Field(default=False, description="Run reconcile inside the gateway every interval_seconds "
                            "for the zaaktypen listed (needs legacy.endpoints).")
    interval_seconds: float = Field(default=3600.0, ge=1.0, description="Seconds between two scheduled runs (the "
                                    "first one interval_seconds after the start).")
    zaaktypen: list[str] = Field(default_factory=list, description="The zaaktype codes the scheduled run compares.")
    open_only: bool = Field(default=True, description="Only zaken without einddatum (SIDE-BY-SIDE R7).")
    sizes: bool = Field(default=False, description="Also compare document sizes: reads every document of the "
                        "compared zaken from legacy once per round.")

    @model_validator(mode="after")
    def _zaaktypen_when_scheduled(self) -> ReconcileSettings:
        if self.scheduled and not self.zaaktypen:
            raise ValueError("reconcile.scheduled needs reconcile.zaaktypen (the zaaktype codes to compare)")
        return self


class MigrationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zaaktypen: dict[str, str] = Field(default_factory=dict, description="Legacy zaaktype code (isVan/gerelateerde/"
                                      "code, at most 10 characters in ZDS) → ZGW zaaktype identificatie, for codes "
                                      "the copy cannot find on its own (cut codes that are ambiguous, other names).")

    @model_validator(mode="after")
    def _no_empty_codes(self) -> MigrationSettings:
        empty = sorted(code for code, target in self.zaaktypen.items() if not code.strip() or not target.strip())
        if empty:
            raise ValueError(f"migration.zaaktypen: empty code or identificatie for {empty!r}")
        return self
