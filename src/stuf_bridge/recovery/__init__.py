"""Nothing half-done: the step journal of the messages being processed, and the recovery of unfinished ones.

- ``context``: the seam the ZGW client writes through (which message and step a write belongs to);
- ``journal``: the journal's store code (tables ``journal`` and ``journal_owners``, migration 6), the per-message
  ``MessageJournal`` and the process's ``Owner`` (who holds which message, and whether it is still alive);
- ``resolve``: finding out unknown outcomes in ZGW and resolving an unfinished message (compensate or complete);
- ``service``: recovery at start-up, in a periodic sweep and for the ``stuf-bridge recover`` command.

The rule and the figures are in docs/recovery.md. This package imports nothing at import time, so that the ZGW
client can use ``context`` without an import cycle.
"""

__all__: list[str] = []  # the modules are the interface (see above); nothing is re-exported here
