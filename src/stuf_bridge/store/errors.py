"""The store's one exception type."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed; the database or driver error is chained as ``__cause__``."""
