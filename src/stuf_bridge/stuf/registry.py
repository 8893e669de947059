"""The operation registry: every ZDS operation of both dialects, as data.

One row per (dialect, operation). Each row names the service (endpoint) the operation belongs to, the
request and response elements, the kind of answer (Du02, Bv02, Bv03, La01) and the kind of fault (Fo02 on the
synchronous services, Fo03 on OntvangAsynchroon), exactly as the official WSDLs declare them. The WSDLs we serve
are generated from this table, and the router resolves incoming messages against it.

``function`` is the dialect-free name of what an operation does (``creeerZaak``); the handlers in
``operations/`` are keyed by it, so both dialects share one implementation.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .namespaces import STUF, ZDS, ZKN, Dialect


class Service(enum.StrEnum):
    BEANTWOORD_VRAAG = "BeantwoordVraag"
    ONTVANG_ASYNCHROON = "OntvangAsynchroon"
    VRIJE_BERICHTEN = "VrijeBerichten"

    @property
    def fault_kind(self) -> str:
        return "Fo03" if self is Service.ONTVANG_ASYNCHROON else "Fo02"

    def wsdl_service_name(self, dialect: Dialect) -> str:
        """The service name in the official WSDL (1.2 renamed VrijeBerichten)."""
        if self is Service.VRIJE_BERICHTEN and dialect is Dialect.ZDS12:
            return "VerwerkSynchroonVrijBericht"
        return self.value


@dataclass(frozen=True)
class Operation:
    dialect: Dialect
    name: str  # WSDL operation name; the SOAPAction tail
    function: str  # dialect-free function name; key of the handler
    service: Service
    request: tuple[str, str]  # (namespace, local name) of the body element
    response: tuple[str, str]
    response_kind: str  # Du02 | Bv02 | Bv03 | La01
    berichtcode: str  # berichtcode expected in the request
    functie: str | None = None  # stuurgegevens/functie expected in a Di/Du request
    entiteittype: str | None = None  # stuurgegevens/entiteittype of an Lk01/Lv01 request

    @property
    def fault_kind(self) -> str:
        return self.service.fault_kind

    @property
    def soap_action(self) -> str:
        if self.request[0] == STUF:
            return f"{STUF}/{self.name}"
        return self.dialect.action_base + self.name

    @property
    def key(self) -> tuple[Dialect, str]:
        return (self.dialect, self.name)


_BV = "Bv03"
_S = Service


def _ops() -> Iterable[Operation]:
    d11, d12 = Dialect.ZDS11, Dialect.ZDS12
    bv02, bv03 = (STUF, "Bv02Bericht"), (STUF, "Bv03Bericht")

    # --- ZDS 1.1: generic ZKN roots, operation told apart by SOAPAction --------------------------------
    for name, fn, req, resp in [
        ("geefZaakdocumentLezen_Lv01", "geefZaakdocumentLezen", "edcLv01", "edcLa01"),
        ("geefZaakstatus_Lv01", "geefZaakstatus", "zakLv01", "zakLa01"),
        ("geefZaakdetails_Lv01", "geefZaakdetails", "zakLv01", "zakLa01"),
        ("geefLijstZaakdocumenten_Lv01", "geefLijstZaakdocumenten", "zakLv01", "zakLa01"),
    ]:
        yield Operation(d11, name, fn, _S.BEANTWOORD_VRAAG, (ZKN, req), (ZKN, resp), "La01", "Lv01",
                        entiteittype=req[:3].upper())
    for name, fn, req in [
        ("voegZaakdocumentToe_Lk01", "voegZaakdocumentToe", "edcLk01"),
        ("maakZaakdocument_Lk01", "maakZaakdocument", "edcLk01"),
        ("actualiseerZaakstatus_Lk01", "actualiseerZaakstatus", "zakLk01"),
        ("creeerZaak_Lk01", "creeerZaak", "zakLk01"),
        ("updateZaak_Lk01", "updateZaak", "zakLk01"),
    ]:
        yield Operation(d11, name, fn, _S.ONTVANG_ASYNCHROON, (ZKN, req), bv03, _BV, "Lk01",
                        entiteittype=req[:3].upper())
    for name in ("Bv03", "Fo01", "Fo03"):
        yield Operation(d11, name, f"ontvang{name}", _S.ONTVANG_ASYNCHROON, (STUF, f"{name}Bericht"), bv03,
                        _BV, name)
    for name, fn, functie, answer, kind in [
        ("genereerDocumentIdentificatie_Di02", "genereerDocumentIdentificatie", "genereerDocumentidentificatie",
         (ZKN, "genereerDocumentIdentificatie_Du02"), "Du02"),
        ("genereerZaakIdentificatie_Di02", "genereerZaakIdentificatie", "genereerZaakidentificatie",
         (ZKN, "genereerZaakIdentificatie_Du02"), "Du02"),
        ("geefZaakdocumentbewerken_Di02", "geefZaakdocumentbewerken", "geefZaakdocumentbewerken",
         (ZKN, "geefZaakdocumentbewerken_Du02"), "Du02"),
        ("updateZaakdocument_Di02", "updateZaakdocument", "updateZaakdocument", bv02, "Bv02"),
        ("cancelCheckout_Di02", "cancelCheckout", "cancelCheckout", bv02, "Bv02"),
    ]:
        yield Operation(d11, name, fn, _S.VRIJE_BERICHTEN, (ZKN, name), answer, kind, "Di02", functie=functie)

    # --- ZDS 1.2: one body element per operation, in the zds0120 namespace ------------------------------
    for name, fn, ent in [
        ("geefZaakdocumentLezen_EdcLv01", "geefZaakdocumentLezen", "EDC"),
        ("geefZaakstatus_ZakLv01", "geefZaakstatus", "ZAK"),
        ("geefZaakdetails_ZakLv01", "geefZaakdetails", "ZAK"),
        ("geefLijstZaakdocumenten_ZakLv01", "geefLijstZaakdocumenten", "ZAK"),
        ("geefBesluitdetails_BslLv01", "geefBesluitdetails", "BSL"),
        ("geefLijstBesluiten_ZakLv01", "geefLijstBesluiten", "ZAK"),
    ]:
        yield Operation(d12, name, fn, _S.BEANTWOORD_VRAAG, (ZDS, name), (ZDS, name.replace("Lv01", "La01")),
                        "La01", "Lv01", entiteittype=ent)
    for name, fn, berichtcode, lk_ent, lk_functie in [
        ("voegZaakdocumentToe_EdcLk01", "voegZaakdocumentToe", "Lk01", "EDC", None),
        ("maakZaakdocument_EdcLk01", "maakZaakdocument", "Lk01", "EDC", None),
        ("actualiseerZaakstatus_ZakLk01", "actualiseerZaakstatus", "Lk01", "ZAK", None),
        ("creeerZaak_ZakLk01", "creeerZaak", "Lk01", "ZAK", None),
        ("updateZaak_ZakLk01", "updateZaak", "Lk01", "ZAK", None),
        ("updateBesluit_BslLk01", "updateBesluit", "Lk01", "BSL", None),
        ("voegBesluitToe_Di01", "voegBesluitToe", "Di01", None, "voegBesluitToe"),
        ("overdragenZaak_Di01", "overdragenZaak", "Di01", None, "overdragenZaak"),
        ("overdragenZaak_Du01", "overdragenZaakAntwoord", "Du01", None, "overdragenZaak"),
    ]:
        yield Operation(d12, name, fn, _S.ONTVANG_ASYNCHROON, (ZDS, name), bv03, _BV, berichtcode,
                        functie=lk_functie, entiteittype=lk_ent)
    for name in ("Bv01", "Bv03", "Fo01", "Fo03"):
        yield Operation(d12, name, f"ontvang{name}", _S.ONTVANG_ASYNCHROON, (STUF, f"{name}Bericht"), bv03,
                        _BV, name)
    for name, element, fn, di_functie, du_element, kind in [
        ("genereerDocumentIdentificatie_Di02", None, "genereerDocumentIdentificatie",
         "genereerDocumentidentificatie", "genereerDocumentIdentificatie_Du02", "Du02"),
        ("genereerZaakIdentificatie_Di02", None, "genereerZaakIdentificatie", "genereerZaakidentificatie",
         "genereerZaakIdentificatie_Du02", "Du02"),
        # The 1.2 element capitalises the B; its SOAPAction and WSDL operation do not.
        ("geefZaakdocumentbewerken_Di02", "geefZaakdocumentBewerken_Di02", "geefZaakdocumentbewerken",
         "geefZaakdocumentbewerken", "geefZaakdocumentBewerken_Du02", "Du02"),
        ("updateZaakdocument_Di02", None, "updateZaakdocument", "updateZaakdocument", None, "Bv02"),
        ("cancelCheckout_Di02", None, "cancelCheckout", "cancelCheckout", None, "Bv02"),
        ("genereerBesluitIdentificatie_Di02", None, "genereerBesluitIdentificatie", "genereerBesluitidentificatie",
         "genereerBesluitIdentificatie_Du02", "Du02"),
        ("ontkoppelZaakdocument_Di02", None, "ontkoppelZaakdocument", "ontkoppelZaakdocument", None, "Bv02"),
    ]:
        yield Operation(d12, name, fn, _S.VRIJE_BERICHTEN, (ZDS, element or name),
                        (ZDS, du_element) if du_element else bv02, kind, "Di02", functie=di_functie)


class Registry:
    """Look-ups over the operation table."""

    def __init__(self, operations: Iterable[Operation]):
        self.operations: tuple[Operation, ...] = tuple(operations)
        self._by_key = {op.key: op for op in self.operations}
        if len(self._by_key) != len(self.operations):
            raise ValueError("duplicate (dialect, operation) in the registry")
        self._by_lower_name: dict[tuple[Dialect, str], Operation] = {
            (op.dialect, op.name.lower()): op for op in self.operations
        }
        self._by_element: dict[tuple[Dialect, str, str], list[Operation]] = {}
        for op in self.operations:
            self._by_element.setdefault((op.dialect, *op.request), []).append(op)

    def get(self, dialect: Dialect, name: str) -> Operation:
        return self._by_key[(dialect, name)]

    def by_name(self, dialect: Dialect, name: str) -> Operation | None:
        """Case-insensitive look-up of an operation by its SOAPAction tail."""
        return self._by_lower_name.get((dialect, name.lower()))

    def by_element(self, dialect: Dialect, namespace: str, local: str) -> list[Operation]:
        """The operations whose request is this body element (several for the generic 1.1 roots)."""
        return list(self._by_element.get((dialect, namespace, local), ()))

    def for_service(self, dialect: Dialect, service: Service) -> list[Operation]:
        return [op for op in self.operations if op.dialect is dialect and op.service is service]

    def functions(self) -> set[str]:
        return {op.function for op in self.operations}


REGISTRY = Registry(_ops())
