"""XML namespaces of StUF, the two ZDS dialects and SOAP."""

from __future__ import annotations

import enum

STUF = "http://www.egem.nl/StUF/StUF0301"
ZKN = "http://www.egem.nl/StUF/sector/zkn/0310"
ZDS = "http://www.stufstandaarden.nl/koppelvlak/zds0120"
BG = "http://www.egem.nl/StUF/sector/bg/0310"
GML = "http://www.opengis.net/gml"
XMIME = "http://www.w3.org/2005/05/xmlmime"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
FOUT = "urn:stuf-bridge:fout"  # our own element in a fault's detailsXML: the stable reason code

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"


class Dialect(enum.StrEnum):
    """The two ZDS dialects. The value is the dialect's version number."""

    ZDS11 = "1.1"
    ZDS12 = "1.2"

    @property
    def namespace(self) -> str:
        """Namespace of the message root elements of this dialect."""
        return ZKN if self is Dialect.ZDS11 else ZDS

    @property
    def action_base(self) -> str:
        """SOAPAction prefix of this dialect's operations."""
        return self.namespace + "/"

    @classmethod
    def for_namespace(cls, namespace: str | None) -> Dialect | None:
        if namespace == ZKN:
            return cls.ZDS11
        if namespace == ZDS:
            return cls.ZDS12
        return None


def qname(namespace: str, local: str) -> str:
    """Clark notation, as lxml uses it: ``{namespace}local``."""
    return f"{{{namespace}}}{local}"


def split_qname(clark: str) -> tuple[str | None, str]:
    if clark.startswith("{"):
        ns, _, local = clark[1:].partition("}")
        return ns, local
    return None, clark
