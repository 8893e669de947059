"""The message trace: what happened to every message, stored and searchable (``docs/tracing.md``).

Only the context API is imported here (``current``, ``MessageTrace``), so that the clients may use it without
pulling in the store; the store, the recorder and the export live in ``trace.store`` and ``trace.recorder``.
"""

from .context import CallNote, MessageTrace, current, tracing

__all__ = ["CallNote", "current", "MessageTrace", "tracing"]
