"""One small flow per ZDS operation, keyed by the registry's dialect-free function name.

Adding an operation takes one act: in a module of this package, write the flow and register it::

    @handler("geefZaakstatus")                  # a function of stuf/registry.py (REGISTRY.functions())
    async def geef_zaakstatus(ctx: MessageContext) -> etree._Element | None: ...

``default_handlers()`` imports every module of the package, so the decorator is the only registration; the
tests pin which registry functions have no handler (tests/operations/test_registration.py). A flow returns the
answer's StUF element (Du02, La01), or None for a plain acknowledgement (Bv02/Bv03), which the gateway writes.

Everything a flow needs is on its ``MessageContext``: the message and its stuurgegevens, the sender (``zender``),
its ``rsin``, ``mapping_context()``, the ``backend`` (``backend.zgw``: the ZGW clients, with ``zgw.catalogue``;
``backend.mappings``: the mapping engine), the ``warnings`` of the answer, and the compensation log ``undo`` for its
writes. The pieces flows share (finding the
zaak, the La01 frame, statussen, closing a zaak, the fault reasons) are in ``common.py``.
"""

from __future__ import annotations

from .context import Backend, Handler, MessageContext, default_handlers, handler

__all__ = ["Backend", "default_handlers", "Handler", "handler", "MessageContext"]
