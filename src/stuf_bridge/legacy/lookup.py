"""The zaaktype of a zaak only the legacy zaaksysteem knows: the routing table's last source (``routing/router.py``,
after the zaak registry and ZGW). A follow-up message for a zaak created before the gateway stood in front of the
legacy system carries no zaaktype; the legacy system is asked with a ``geefZaakdetails_Lv01`` of the gateway's own —
its own zender and a fresh referentienummer, never the client's (Open Zaakbrug reuses the client's stuurgegevens,
SIDE-BY-SIDE A.2) — whose scope asks for the zaaktype code only.

A legacy that does not know the zaak (a La01 without antwoord, or a StUF fault) is an answer: the zaaktype is
unknown and the rules without zaaktype decide. A legacy that gives no answer at all raises its ``LegacyError``: the
router then faults the message rather than guess a route.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from ..stuf.namespaces import SOAP11, STUF, ZKN
from ..stuf.registry import Service
from ..stuf.stuurgegevens import Systeem
from .client import LegacyClient

ACTION = "http://www.egem.nl/StUF/sector/zkn/0310/geefZaakdetails_Lv01"
_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_CODE = f".//{{{ZKN}}}antwoord/{{{ZKN}}}object/{{{ZKN}}}isVan/{{{ZKN}}}gerelateerde/{{{ZKN}}}code"


class LegacyZaaktype:
    """``await lookup(identificatie)`` → the zaaktype code the legacy system gives, or None when it has none."""

    def __init__(self, client: LegacyClient, identity: Systeem):
        self.client = client
        self.identity = identity

    async def __call__(self, identificatie: str) -> str | None:
        envelope = question(identificatie, self.identity)
        answer = await self.client.call(Service.BEANTWOORD_VRAAG, envelope, soap_action=f'"{ACTION}"',
                                        content_type="text/xml; charset=utf-8")
        try:
            if answer.fault is not None:
                return None
            code = (answer.message.findtext(_CODE) or "").strip()
            return code or None
        finally:
            answer.close()


def question(identificatie: str, identity: Systeem, *, referentienummer: str | None = None) -> bytes:
    """A ZDS 1.1 geefZaakdetails_Lv01 asking only for the zaak's zaaktype code, with the gateway as zender."""
    zender = "".join(
        f"<StUF:{name}>{escape(value)}</StUF:{name}>"
        for name, value in (("organisatie", identity.organisatie), ("applicatie", identity.applicatie or "stuf-bridge"))
        if value
    )
    tijdstip = datetime.now(_AMSTERDAM).strftime("%Y%m%d%H%M%S%f")[:17]
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="{SOAP11}" xmlns:StUF="{STUF}" xmlns:ZKN="{ZKN}"
               xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soap:Body>
  <ZKN:zakLv01>
   <ZKN:stuurgegevens>
    <StUF:berichtcode>Lv01</StUF:berichtcode>
    <StUF:zender>{zender}</StUF:zender>
    <StUF:ontvanger/>
    <StUF:referentienummer>{referentienummer or uuid.uuid4().hex}</StUF:referentienummer>
    <StUF:tijdstipBericht>{tijdstip}</StUF:tijdstipBericht>
    <StUF:entiteittype>ZAK</StUF:entiteittype>
   </ZKN:stuurgegevens>
   <ZKN:parameters>
    <StUF:sortering>0</StUF:sortering>
    <StUF:indicatorVervolgvraag>false</StUF:indicatorVervolgvraag>
   </ZKN:parameters>
   <ZKN:gelijk StUF:entiteittype="ZAK"><ZKN:identificatie>{escape(identificatie)}</ZKN:identificatie></ZKN:gelijk>
   <ZKN:scope>
    <ZKN:object StUF:entiteittype="ZAK">
     <ZKN:identificatie xsi:nil="true"/>
     <ZKN:isVan StUF:entiteittype="ZAKZKT"><ZKN:gerelateerde StUF:entiteittype="ZKT"><ZKN:code xsi:nil="true"/>
     </ZKN:gerelateerde></ZKN:isVan>
    </ZKN:object>
   </ZKN:scope>
  </ZKN:zakLv01>
 </soap:Body>
</soap:Envelope>""".encode()
