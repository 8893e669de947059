"""Replicate and its durable secondary leg: the mode handler (``replicate.py``), the worker that delivers the outbox
(``worker.py``) and its settings (``config.py``). Import the modules themselves (this package's ``__init__`` stays
empty, so that ``settings.py`` can import ``config.py`` without the pipeline)."""

from __future__ import annotations

__all__: list[str] = []
