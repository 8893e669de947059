"""Errors of the mapping engine.

StufBridgeError
├── MappingError                 a mapping file that cannot be used: stops start-up (file, rule, reason)
└── Fault
    ├── StuurgegevensError
    │   └── UnknownOrganisation  StUF013  client  a gemeentecode without RSIN and no default RSIN
    └── ProcessingError
        ├── MappedValueError     StUF058  client  a value in the message that cannot be converted
        │   └── RequiredMissing  StUF058  client  a create without a value the mapping requires
        ├── UnknownRelation      StUF058  client  a relation (heeftAlsX) the role table does not know
        └── MissingFallbackResultaat StUF058 client  closing a zaak without resultaat and no fallback
"""

from __future__ import annotations

from ..errors import ProcessingError, StufBridgeError, StuurgegevensError


class MappingError(StufBridgeError):
    """A mapping file that is broken. The message names the file, the rule and the reason.

    ``problems`` holds every problem found in one load (the message shows the first few), so that one start
    reports everything that needs fixing rather than one thing at a time.
    """

    def __init__(self, file: str, rule: str, reason: str, *, problems: list[MappingError] | None = None):
        self.file = file
        self.rule = rule
        self.reason = reason
        self.problems = problems or [self]
        where = f"{file}: {rule}" if rule else file
        text = f"{where}: {reason}"
        if len(self.problems) > 1:
            more = "\n".join(f"  {p.location}: {p.reason}" for p in self.problems[1:8])
            text += f"\n{len(self.problems) - 1} more problem(s):\n{more}"
            if len(self.problems) > 8:
                text += "\n  …"
        super().__init__(text)

    @property
    def location(self) -> str:
        return f"{self.file}: {self.rule}" if self.rule else self.file

    @classmethod
    def collect(cls, problems: list[MappingError]) -> MappingError:
        first = problems[0]
        return cls(first.file, first.rule, first.reason, problems=problems)


class MappedValueError(ProcessingError):
    """A StUF value that the mapping cannot turn into ZGW (or back); names the element path and the value."""

    plek = "client"
    reason = "value-invalid"

    def __init__(self, path: str, problem: str, *, value: str | None = None):
        self.path = path
        self.value = value
        self.problem = problem  # what is wrong with the value, in the client's terms (the fault's text)
        super().__init__(f"{path}: {problem}"[:200], f"{path}: {problem}")


class RequiredMissing(MappedValueError):
    reason = "required-missing"

    def __init__(self, paths: list[str]):
        self.paths = paths
        super().__init__(", ".join(paths), "verplicht gegeven ontbreekt")


class UnknownOrganisation(StuurgegevensError):
    """``zender/organisatie`` has no RSIN in the mapping and no default RSIN is configured (StUF013)."""

    reason = "organisatie-unknown"

    def __init__(self, gemeentecode: str | None, reason: str | None = None):
        self.gemeentecode = gemeentecode
        text = reason or (
            f"geen RSIN bekend voor gemeentecode {gemeentecode!r}; voeg hem toe aan organisaties in de "
            "mapping-overlay of stel een standaard-RSIN in"
        )
        super().__init__("StUF013", text[:200], text, reason=self.reason)


class UnknownRelation(ProcessingError):
    plek = "client"
    reason = "relation-unknown"


class MissingFallbackResultaat(ProcessingError):
    """A zaak must be closed without a resultaat and its zaaktype has no fallback resultaat configured."""

    plek = "client"
    reason = "fallback-resultaat-missing"

    def __init__(self, zaaktype: str | None):
        self.zaaktype = zaaktype
        key = zaaktype or "<zaaktype>"
        text = (
            f"zaak van zaaktype {zaaktype!r} wordt afgesloten zonder resultaat en er is geen fallback-resultaat; "
            f"stuur een resultaat mee of stel profiles.zaaktypen.{key}.fallback_resultaat in de mapping-overlay in"
        )
        super().__init__(text[:200], text)
