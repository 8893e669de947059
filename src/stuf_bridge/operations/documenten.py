"""documenten operations (being built)."""

from __future__ import annotations

HANDLERS: dict = {}
