"""Moving the history from the legacy zaaksysteem into ZGW (SIDE-BY-SIDE A.5, A.7 items 5-7, R5-R7; docs/migration.md).

* ``store.py``: the migration ledger, the per-zaak back-fill locks, the routing overrides and the cut-over audit
  (store migration 7);
* ``source.py``: the gateway's own questions to legacy (geefZaakdetails, geefLijstZaakdocumenten,
  geefZaakdocumentLezen streamed);
* ``copy.py``: copying one zaak with everything, or nothing (the core the rest uses);
* ``backfill.py``: the router around the routing table's: cut-over overrides and lazy back-fill on reference;
* ``bulk.py``: ``stuf-bridge migrate``; ``reconcile.py``: ``stuf-bridge reconcile``; ``cutover.py``:
  ``stuf-bridge cutover``;
* ``digest.py``: the normalised view of a zaak that reconciliation compares;
* ``resync.py``: ``reconcile --repair`` of a zaak whose primary is ZGW (legacy brought in line);
* ``compare.py``: ``compare_reads`` (sampled questions compared through the outbox); ``scheduled.py``: the
  scheduled reconcile in the gateway; ``config.py``: its settings;
* ``wiring.py``: how the parts are put together in the gateway and in the commands.

Nothing is imported here (the parts need the gateway, which needs the settings).
"""

__all__: list[str] = []
