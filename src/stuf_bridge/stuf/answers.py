"""StUF answers the gateway writes itself: acknowledgements (Bv02, Bv03) and faults (Fo02, Fo03).

Operation-specific answers (Du02, La01) are built by the operations; they use ``write_stuurgegevens`` too.
"""

from __future__ import annotations

from lxml import etree

from ..errors import DETAILS_MAX, OMSCHRIJVING_MAX, Fault, clip
from .namespaces import FOUT, STUF
from .stuurgegevens import AnswerParties, write_stuurgegevens

_NSMAP = {"StUF": STUF}


def bevestiging(kind: str, parties: AnswerParties) -> etree._Element:
    """Bv03 (answer to an asynchronous message) or Bv02 (to a synchronous Di02 without data)."""
    if kind not in ("Bv02", "Bv03"):
        raise ValueError(kind)
    root = etree.Element(f"{{{STUF}}}{kind}Bericht", nsmap=_NSMAP)
    write_stuurgegevens(root, f"{{{STUF}}}stuurgegevens", kind, parties if kind == "Bv03" else None)
    return root


def foutbericht(kind: str, fault: Fault, parties: AnswerParties) -> etree._Element:
    """Fo02 (synchronous services) or Fo03 (OntvangAsynchroon) for an error.

    Fo02 carries only its berichtcode in the stuurgegevens; Fo03 carries the full set (STUF §4.4.3).
    """
    if kind not in ("Fo02", "Fo03"):
        raise ValueError(kind)
    root = etree.Element(f"{{{STUF}}}{kind}Bericht", nsmap=_NSMAP)
    write_stuurgegevens(root, f"{{{STUF}}}stuurgegevens", kind, parties if kind == "Fo03" else None)
    body = etree.SubElement(root, f"{{{STUF}}}body")
    etree.SubElement(body, f"{{{STUF}}}code").text = fault.code_for(kind)
    etree.SubElement(body, f"{{{STUF}}}plek").text = fault.plek
    etree.SubElement(body, f"{{{STUF}}}omschrijving").text = clip(fault.omschrijving, OMSCHRIJVING_MAX)
    if fault.details:
        etree.SubElement(body, f"{{{STUF}}}details").text = clip(fault.details, DETAILS_MAX)
    # the machine-readable reason (errors.Fault.reason) in the standard's wildcard, which receivers skip
    details_xml = etree.SubElement(body, f"{{{STUF}}}detailsXML")
    etree.SubElement(details_xml, f"{{{FOUT}}}reden", nsmap={"fout": FOUT}).text = fault.reason
    return root
