"""The store's one exception type."""

from __future__ import annotations

from ..errors import StufBridgeError


class StoreError(StufBridgeError):
    """A store operation failed; the database or driver error is chained as ``__cause__``.

    Its text names the database and the driver's error: for the log. The fault a client gets
    (``stuf_bridge.faults``) says only that the store is unavailable."""
