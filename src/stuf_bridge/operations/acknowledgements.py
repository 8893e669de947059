"""StUF Bv01/Bv03/Fo01/Fo03 received on OntvangAsynchroon.

These are a client's acknowledgements of, or faults about, asynchronous messages. The WSDL prescribes a Bv03
answer. The gateway sends no asynchronous messages of its own yet (kennisgevingen come with the side-by-side
modes), so it records what arrived and acknowledges it; a received fault is logged as a warning so that an
engineer sees it.
"""

from __future__ import annotations

import structlog
from lxml import etree

from . import MessageContext, handler

log = structlog.get_logger(__name__)


@handler("ontvangBv01", "ontvangBv03", "ontvangFo01", "ontvangFo03", backend=False)
async def receive(ctx: MessageContext) -> None:
    body = next((el for el in ctx.message if isinstance(el.tag, str) and etree.QName(el).localname == "body"), None)
    fields = {}
    if body is not None:
        fields = {etree.QName(el).localname: (el.text or "").strip() for el in body if isinstance(el.tag, str)}
    event = "stuf_fault_received" if ctx.operation.name.startswith("Fo") else "stuf_ack_received"
    getattr(log, "warning" if event == "stuf_fault_received" else "info")(
        event,
        berichtcode=ctx.stuurgegevens.berichtcode,
        zender=ctx.zender.label() if ctx.zender else None,
        cross_refnummer=ctx.stuurgegevens.cross_refnummer,
        **{k: fields[k] for k in ("code", "plek", "omschrijving") if k in fields},
    )
