"""besluiten operations (being built)."""

from __future__ import annotations

HANDLERS: dict = {}
