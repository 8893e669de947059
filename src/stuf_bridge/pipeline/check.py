"""Stage *check*: stuurgegevens the gateway cannot act on are a fault whatever the validation policy (README,
Faults): none at all, a berichtcode or functie of another operation, no zender on a message that changes something."""

from __future__ import annotations

from ..errors import StuurgegevensError
from ..stuf.registry import REGISTRY, Operation, Registry
from ..stuf.stuurgegevens import BERICHTCODES, Stuurgegevens
from .exchange import Exchange, Next


class Check:
    name = "check"

    def __init__(self, registry: Registry = REGISTRY):
        self.functies = {o.functie.lower() for o in registry.operations if o.functie}

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        assert x.operation is not None
        self.check(x.operation, x.stuurgegevens, x.warnings)
        await call_next(x)

    def check(self, op: Operation, sg: Stuurgegevens | None, warnings: list[str]) -> None:
        if sg is None:
            raise StuurgegevensError("StUF013", "Het bericht heeft geen stuurgegevens",
                                     f"{op.request[1]} moet beginnen met stuurgegevens (berichtcode, zender, ...).",
                                     reason="stuurgegevens-missing")
        if sg.berichtcode is not None and sg.berichtcode != op.berichtcode:
            known = "een onbekende berichtcode" if sg.berichtcode not in BERICHTCODES else "niet de berichtcode"
            raise StuurgegevensError(
                "StUF025",
                f"Berichtcode {sg.berichtcode[:20]} wordt niet ondersteund voor {op.name}",
                f"{sg.berichtcode!r} is {known} van {op.name}; verwacht wordt {op.berichtcode}.",
                plek="server", reason="berichtcode-mismatch",
            )
        if (sg.zender is None or not sg.zender.applicatie) and op.berichtcode == "Lv01":
            # a question changes nothing and needs no idempotency record: answered (Suites4SociaalDomein's "zaken
            # zoeken" has no zender), the answer's ontvanger left empty
            warnings.append("stuurgegevens: de zender ontbreekt; het antwoord heeft geen ontvanger")
        elif sg.zender is None or not sg.zender.applicatie:
            raise StuurgegevensError(
                "StUF013",
                "De zender ontbreekt in de stuurgegevens",
                "stuurgegevens/zender met ten minste applicatie is verplicht; de gateway bepaalt er de "
                "validatie, de identificaties en het antwoord mee.",
                reason="zender-missing",
            )
        if op.functie and sg.functie and sg.functie.lower() != op.functie.lower():
            if sg.functie.lower() in self.functies:
                raise StuurgegevensError(
                    "StUF037", f"Functie {sg.functie[:40]} hoort niet bij {op.name}",
                    f"Bij {op.request[1]} hoort functie {op.functie}.", plek="server", reason="functie-mismatch")
            raise StuurgegevensError(
                "StUF034", f"Onbekende functie {sg.functie[:40]}",
                f"De functie {sg.functie!r} bestaat niet in ZDS; bij {op.request[1]} hoort {op.functie}.",
                reason="functie-unknown")
