"""The stages a message passes through (see ``gateway.py`` for the list and the order) and the exchange they share."""

from __future__ import annotations

from .exchange import Environment, Exchange, Next, Reply, Stage
from .route import Mode, Route, Router

__all__ = ["Environment", "Exchange", "Mode", "Next", "Reply", "Route", "Router", "Stage"]
