"""Reading a StUF fault answer (Fo02 in a SOAP fault, Fo03 as an answer) in tests: its StUF code and our reason
code first, since those are stable; the Dutch texts only where a test checks what they name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from stuf_bridge.stuf.namespaces import FOUT, STUF

REASON = f".//{{{STUF}}}detailsXML/{{{FOUT}}}reden"


@dataclass(frozen=True)
class StufFault:
    code: str
    plek: str
    reason: str
    omschrijving: str
    details: str

    @property
    def codes(self) -> tuple[str, str]:
        """(StUF code, reason): what a test of a fault asserts first."""
        return self.code, self.reason


def stuf_fault(answer: bytes | str | etree._Element | Any) -> StufFault:
    """The fault in an answer: raw bytes/text, a parsed element, or anything with ``.body`` (a gateway ``Reply``)
    or ``.content`` (an httpx response). Fails the test when the answer holds no fault."""
    if hasattr(answer, "content") and not isinstance(answer, etree._Element):
        answer = answer.content
    elif hasattr(answer, "body") and not isinstance(answer, etree._Element):
        answer = answer.body
    root = answer if isinstance(answer, etree._Element) else etree.fromstring(
        answer.encode() if isinstance(answer, str) else answer)
    body = next((el for el in root.iter(f"{{{STUF}}}body") if el.find(f"{{{STUF}}}code") is not None), None)
    assert body is not None, etree.tostring(root)[:3000]
    return StufFault(
        code=body.findtext(f"{{{STUF}}}code") or "",
        plek=body.findtext(f"{{{STUF}}}plek") or "",
        reason=body.findtext(REASON) or "",
        omschrijving=body.findtext(f"{{{STUF}}}omschrijving") or "",
        details=body.findtext(f"{{{STUF}}}details") or "",
    )
