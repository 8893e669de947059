"""What the engine takes and gives: the mapping context and the mapped objects."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from ..stuf.namespaces import Dialect
from .paths import get_in, set_in
from .tables import RoltypeKeys

NO_KEYS = RoltypeKeys(None, ())


@dataclass(frozen=True)
class MappingContext:
    """What a mapping may know besides the element: the dialect, create or update (``default`` and ``required``
    apply to creates only), the clock, the sender's organisation (RSIN) and the zaak's zaaktype and
    extraElementen (for per-zaaktype profiles)."""

    dialect: Dialect | str = Dialect.ZDS11
    mode: Literal["create", "update"] = "create"
    now: datetime | None = None
    rsin: str | None = None
    gemeentecode: str | None = None
    applicatie: str | None = None
    gebruiker: str | None = None
    zaaktype: str | None = None
    extra_elementen: Mapping[str, str] | None = None

    @property
    def dialect_text(self) -> str:
        return self.dialect.value if isinstance(self.dialect, Dialect) else str(self.dialect)

    def replace(self, **changes: Any) -> MappingContext:
        return replace(self, **changes)


@dataclass
class MappedObject:
    """A StUF entity as ZGW JSON, keeping the three update states apart.

    ``values``: what the message sets (nested JSON; keys starting with ``_`` are look-up keys, not body).
    ``cleared``: ZGW path → the value that clears it (``geenWaarde``). Everything else: unchanged.
    ``skipped``: why the whole object is not to be sent (e.g. a zaakobject that is no adres).
    """

    entity: str
    values: dict[str, Any]
    cleared: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: str | None = None
    overrides: list[str] = field(default_factory=list)

    @property
    def body(self) -> dict[str, Any]:
        """The values for a POST (no look-up keys, no clears)."""
        body: dict[str, Any] = strip_private(self.values)
        return body

    @property
    def expand(self) -> dict[str, Any]:
        expand = self.values.get("_expand")
        return expand if isinstance(expand, dict) else {}

    def patch_body(self) -> dict[str, Any]:
        """The values plus the clears, for a PATCH of what changed."""
        body: dict[str, Any] = strip_private(self.values)
        for path, value in self.cleared.items():
            if not path.startswith("_"):
                set_in(body, tuple(path.split(".")), copy.deepcopy(value))
        return body

    def get(self, path: str) -> Any:
        return get_in(self.values, tuple(path.split(".")))

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": self.values, "cleared": self.cleared, "warnings": self.warnings}
        if self.skipped:
            out["skipped"] = self.skipped
        if self.overrides:
            out["overrides"] = self.overrides
        return out


@dataclass
class MappedRol(MappedObject):
    relation: str = ""
    roltype: RoltypeKeys = NO_KEYS
    verwerkingssoort: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "relation": self.relation,
            "roltype": {"omschrijving": self.roltype.omschrijving, "generiek": list(self.roltype.generiek)},
            **super().as_json(),
        }


def strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_private(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [strip_private(v) for v in value]
    return value
