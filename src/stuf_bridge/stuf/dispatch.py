"""Which operation a message is: by body root element, SOAPAction and, for the generic ZDS 1.1 roots, content.

ZDS 1.2 names each operation in its body element, so the body decides. ZDS 1.1 sends one generic root for
several operations (``zakLk01`` for creeerZaak, updateZaak and actualiseerZaakstatus); there the SOAPAction
decides, matched case-insensitively and with or without quotes. When the action is missing or says nothing
useful (``UnknownSoapAction``, ``…/irrelevant``, ``…/zakLk01``), the content decides (CLIENTS.md §10).
"""

from __future__ import annotations

from lxml import etree

from ..errors import UnknownOperation
from .namespaces import STUF, Dialect
from .registry import Operation, Registry


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and _local(c) == name]


def _child(el: etree._Element | None, name: str) -> etree._Element | None:
    found = _children(el, name)
    return found[0] if found else None


def action_tail(action: str | None) -> str | None:
    if not action:
        return None
    return action.rstrip("/").rsplit("/", 1)[-1] or None


def resolve(registry: Registry, message: etree._Element, action: str | None) -> Operation:
    """The operation of a message; ``UnknownOperation`` when no ZDS operation fits."""
    qn = etree.QName(message)
    if qn.namespace == STUF:
        # Bv/Fo messages are the same in both dialects; prefer the one whose WSDL has this operation.
        for either in (Dialect.ZDS11, Dialect.ZDS12):
            candidates = registry.by_element(either, STUF, qn.localname)
            if candidates:
                return candidates[0]
        raise UnknownOperation(
            f"StUF-bericht {qn.localname} wordt niet ontvangen",
            "De ZDS-services ontvangen van de StUF-berichten alleen Bv01, Bv03, Fo01 en Fo03.",
        )
    dialect = Dialect.for_namespace(qn.namespace)
    if dialect is None:
        raise UnknownOperation(
            "Het bericht is geen ZDS-bericht",
            f"Het element {qn.text} hoort bij geen van de ZDS-dialecten (namespace ZKN 0310 of zds0120).",
        )
    candidates = registry.by_element(dialect, qn.namespace, qn.localname)
    if not candidates:
        raise UnknownOperation(
            f"Onbekende operatie: {qn.localname}",
            f"Het element {qn.localname} is geen verzoek van een ZDS {dialect.value}-operatie"
            f" (SOAPAction: {action or 'afwezig'}).",
        )
    if len(candidates) == 1:
        return candidates[0]
    return _by_action(candidates, action) or _by_content(candidates, message)


def _by_action(candidates: list[Operation], action: str | None) -> Operation | None:
    tail = action_tail(action)
    if not tail:
        return None
    lowered = tail.lower()
    for op in candidates:
        if op.name.lower() == lowered:
            return op
    # The other dialect's name for the same function (creeerZaak_ZakLk01 with a 1.1 body), or a bare function.
    function = lowered.split("_", 1)[0]
    for op in candidates:
        if op.function.lower() == function:
            return op
    return None


def _by_content(candidates: list[Operation], message: etree._Element) -> Operation:
    functions = {op.function: op for op in candidates}
    root = _local(message)
    if root == "zakLk01":
        parameters = _child(message, "parameters")
        soort = _child(parameters, "mutatiesoort")
        mutatiesoort = (soort.text or "").strip() if soort is not None else ""
        if mutatiesoort == "T":
            return functions["creeerZaak"]
        objects = _children(message, "object")
        if objects and all(_only_status(obj) for obj in objects) and any(_child(o, "heeft") is not None
                                                                        for o in objects):
            return functions["actualiseerZaakstatus"]
        return functions["updateZaak"]
    if root == "edcLk01":
        has_content = any(_child(obj, "inhoud") is not None for obj in _children(message, "object"))
        return functions["voegZaakdocumentToe" if has_content else "maakZaakdocument"]
    if root == "zakLv01":
        scope_object = _child(_child(message, "scope"), "object")
        asked = {_local(c) for c in scope_object if isinstance(c.tag, str)} if scope_object is not None else set()
        if "heeftRelevant" in asked and asked <= _DOCUMENT_LIST:
            return functions["geefLijstZaakdocumenten"]
        if "heeft" in asked and asked <= {"identificatie", "heeft"}:
            return functions["geefZaakstatus"]
        return functions["geefZaakdetails"]
    # Not reached with the registry as it is; keep the failure explicit if it grows.
    raise UnknownOperation(f"Operatie voor {root} niet te bepalen", "Geef de SOAPAction van de operatie mee.")


# a scope that asks for the documents and (at most) the zaak's kerngegevens is a document list; one that asks for
# more of the zaak is a zaakdetails question ("zaken zoeken" of Suites4SociaalDomein asks for everything)
_DOCUMENT_LIST = {"identificatie", "omschrijving", "heeftRelevant"}
_STATUS_ONLY = {"identificatie", "isVan", "heeft", "tijdstipRegistratie", "extraElementen"}


def _only_status(obj: etree._Element) -> bool:
    return {_local(c) for c in obj if isinstance(c.tag, str)} <= _STATUS_ONLY
