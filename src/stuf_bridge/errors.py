"""The gateway's exception tree. Every error a client can cause or meet ends as one of these, and one handler
(``stuf.answers.fault_for``) turns it into the Fo02/Fo03 fault the endpoint's WSDL declares.

    StufBridgeError
    └── Fault                      code, plek, omschrijving, details
        ├── MessageError           StUF055  client   not XML, no SOAP envelope, schema-invalid, too large/deep
        ├── StuurgegevensError     StUF0xx  client   stuurgegevens the gateway cannot act on (code given)
        ├── NotSupported           StUF040  server   a recognised operation that is not built (yet)
        ├── UnknownOperation       StUF040  server   neither SOAPAction nor body names a ZDS operation
        ├── ProcessingError        StUF058  client/server  the operation itself failed
        └── BackendUnavailable     StUF046 (Fo03) / StUF049 (Fo02)  server
            └── BackendTimeout     StUF046 (Fo03) / StUF960 (Fo02)  server

    StepFailed                     a step of a multi-call operation failed (its undo already ran)

ZGW errors (``zgw.errors``), catalogue misses and failed steps are translated into faults by ``fault_for``.
"""

from __future__ import annotations

OMSCHRIJVING_MAX = 200
DETAILS_MAX = 1000


class StufBridgeError(Exception):
    """Base of every error raised by the gateway."""


class Fault(StufBridgeError):
    """An error that is answered with a StUF fault.

    Beside the StUF ``code`` (few, coarse, prescribed by the standard) every fault carries a ``reason``: a stable,
    fine-grained code of stuf-bridge's own in kebab case (``zaak-not-found``, ``roltype-not-found``), as Open Zaak's
    validators carry one. It is logged, traced and sent in the fault's ``detailsXML``; tests assert it rather than
    the Dutch ``omschrijving``, which may be reworded."""

    code = "StUF058"
    plek = "server"
    reason = "internal-error"

    def __init__(
        self,
        omschrijving: str,
        details: str | None = None,
        *,
        code: str | None = None,
        plek: str | None = None,
        reason: str | None = None,
    ):
        super().__init__(omschrijving)
        self.omschrijving = omschrijving
        self.details = details
        if code is not None:
            self.code = code
        if plek is not None:
            self.plek = plek
        if reason is not None:
            self.reason = reason

    def code_for(self, fault_kind: str) -> str:
        """The StUF code for this error in a fault of kind Fo02 or Fo03."""
        return self.code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason}, {self.plek}, {self.omschrijving!r})"


class MessageError(Fault):
    code = "StUF055"
    plek = "client"
    reason = "message-invalid"


class StuurgegevensError(Fault):
    plek = "client"

    def __init__(self, code: str, omschrijving: str, details: str | None = None, *, plek: str = "client",
                 reason: str | None = None):
        super().__init__(omschrijving, details, code=code, plek=plek, reason=reason)


class NotSupported(Fault):
    code = "StUF040"
    plek = "server"
    reason = "operation-not-supported"


class UnknownOperation(Fault):
    code = "StUF040"
    plek = "server"
    reason = "operation-unknown"


class ProcessingError(Fault):
    code = "StUF058"


class BackendUnavailable(Fault):
    plek = "server"
    reason = "backend-unavailable"

    def code_for(self, fault_kind: str) -> str:
        return "StUF046" if fault_kind == "Fo03" else "StUF049"


class BackendTimeout(BackendUnavailable):
    """The backend did not answer in time: StUF960 on a synchronous service (STUF table 5.8), else StUF046."""

    reason = "backend-timeout"

    def code_for(self, fault_kind: str) -> str:
        return "StUF046" if fault_kind == "Fo03" else "StUF960"


class StepFailed(StufBridgeError):
    """A step of a multi-call operation failed; ``cause`` is the original error."""

    def __init__(self, step: str, cause: BaseException, undone: list[str], not_undone: list[str]):
        self.step = step
        self.cause = cause
        self.undone = undone
        self.not_undone = not_undone
        super().__init__(self.summary())

    def summary(self) -> str:
        text = f"stap '{self.step}' mislukte: {self.cause}"
        if self.undone:
            text += f"; teruggedraaid: {', '.join(self.undone)}"
        if self.not_undone:
            text += f"; NIET teruggedraaid (handmatig opruimen): {', '.join(self.not_undone)}"
        return text


def clip(text: str | None, limit: int) -> str | None:
    """Shorten text to a StUF length limit, marking the cut with an ellipsis."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def fault_for(exc: Exception) -> Fault | None:
    """The StUF fault for an error raised while processing, or None for an unexpected one (a bug).

    A failed step of a multi-call operation keeps the fault of its cause, with details that name the step and
    what was rolled back."""
    if isinstance(exc, StepFailed):
        fault = fault_for(exc.cause) if isinstance(exc.cause, Exception) else None
        fault = fault or ProcessingError("Interne fout in stuf-bridge", plek="server")
        fault.details = clip(exc.summary(), DETAILS_MAX)
        return fault
    if isinstance(exc, Fault):
        return exc
    from .zgw import CatalogueLookupError, ZgwError

    if isinstance(exc, ZgwError | CatalogueLookupError):
        return fault_for_zgw(exc)
    return None


def fault_for_zgw(exc: Exception) -> Fault:
    """The StUF fault for an error from the ZGW side (MAPPING.md §1.3), quoting the backend's reason."""
    from .zgw import (
        CatalogueLookupError,
        ZgwAuthError,
        ZgwClientError,
        ZgwServerError,
        ZgwTimeout,
        ZgwUnavailable,
    )

    reason = str(exc)
    if isinstance(exc, CatalogueLookupError):
        return ProcessingError("Niet gevonden in de catalogus", reason, plek="client")
    if isinstance(exc, ZgwAuthError):  # the gateway's own credentials: not the client's doing
        return ProcessingError("De ZGW-API weigert de gateway (autorisatie)", reason, plek="server")
    if isinstance(exc, ZgwClientError):
        return ProcessingError("De ZGW-API weigert de gegevens", reason, plek="client")
    if isinstance(exc, ZgwTimeout):
        return BackendTimeout("De ZGW-API antwoordt niet op tijd", reason)
    if isinstance(exc, ZgwServerError | ZgwUnavailable):
        return BackendUnavailable("De ZGW-API is niet beschikbaar", reason)
    return ProcessingError("Onverwacht antwoord van de ZGW-API", reason, plek="server")
