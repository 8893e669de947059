"""The gateway's exception tree. Every error a client can cause or meet is one of these, and one table
(``stuf_bridge.faults``, ``to_fault``) turns it into the StUF fault (code, plek, omschrijving, details, reason) that
the endpoint's WSDL declares (Fo02/Fo03).

    StufBridgeError
    ├── Fault                          code, plek, omschrijving, details, reason
    │   ├── MessageError               StUF055  client   not XML, no SOAP envelope, schema-invalid, too large/deep
    │   ├── StuurgegevensError         StUF0xx  client   stuurgegevens the gateway cannot act on (code given)
    │   ├── NotSupported               StUF040  server   a recognised operation that is not built (yet)
    │   ├── UnknownOperation           StUF040  server   neither SOAPAction nor body names a ZDS operation
    │   ├── ProcessingError            StUF058  client/server  the operation itself failed
    │   ├── NotAuthenticated           StUF052  client   no or wrong credentials (HTTP 401)
    │   ├── NotAuthorised              StUF052  client   a client outside its zenders, operations, zaaktypen
    │   └── BackendUnavailable         StUF046 (Fo03) / StUF049 (Fo02)  server
    │       ├── GatewayStopping        StUF046 (Fo03) / StUF049 (Fo02)  server  the grace period of a stop ended
    │       └── BackendTimeout         StUF046 (Fo03) / StUF960 (Fo02)  server
    ├── StepFailed                     a step of a multi-call operation failed (its undo already ran); the fault
    │                                  is its cause's, with details naming the step and what was rolled back
    ├── ZgwError                       (zgw.errors) the ZGW APIs refused, failed or could not be reached
    ├── CatalogueLookupError           (zgw.catalogue) no or several catalogue entries match
    ├── StoreError                     (store.errors) the gateway's own database failed
    └── MappingError                   (mapping.errors) a broken mapping file: stops start-up, never a fault

A ``Fault`` is answered as it is. Every other error becomes a fault in ``stuf_bridge.faults`` and nowhere else:
that module alone knows both these classes and the StUF fault vocabulary, so ``zgw/`` and ``store/`` know no StUF
and this module imports neither of them. An error it does not know is a bug: an internal-error fault whose details
say nothing of the exception (that goes to the log).
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

    def with_details(self, details: str | None) -> Fault:
        """The same fault (class, code, plek, reason) with other details; this one is left as it is."""
        twin = type(self).__new__(type(self), *self.args)
        twin.__dict__.update(self.__dict__)
        twin.details = details
        return twin

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


class GatewayStopping(BackendUnavailable):
    """The gateway stopped (SIGTERM) and the shutdown grace period ended before this message was answered: a
    server-side, temporary failure (StUF046 on Fo03, StUF049 on Fo02, as for an unavailable backend). Whatever the
    message had done is in the recovery journal and is resolved at the next start or on the resend, so resending
    it is safe (``stopping.py``)."""

    reason = "gateway-stopping"

    def __init__(self) -> None:
        super().__init__(
            "stuf-bridge stopt; stuur het bericht opnieuw",
            "De gateway werd gestopt voordat dit bericht klaar was. Wat het bericht al had gedaan wordt bij de "
            "volgende start of bij het opnieuw sturen hersteld of afgemaakt; opnieuw sturen (zelfde "
            "referentienummer) is veilig.",
        )


class BackendTimeout(BackendUnavailable):
    """The backend did not answer in time: StUF960 on a synchronous service (STUF table 5.8), else StUF046."""

    reason = "backend-timeout"

    def code_for(self, fault_kind: str) -> str:
        return "StUF046" if fault_kind == "Fo03" else "StUF960"


class NotAuthenticated(Fault):
    """The request did not authenticate as a configured client (security/): HTTP 401, before any StUF processing.
    StUF052, the code table's "not authorised" (the zendende systeem is niet geautoriseerd)."""

    code = "StUF052"
    plek = "client"
    reason = "not-authenticated"
    http_status = 401
    http_headers: dict[str, str] | None = None  # WWW-Authenticate, when Basic is offered


class NotAuthorised(Fault):
    """An authenticated client acting outside what it is configured for (zender, operation, zaaktype): StUF052.
    Its texts never say whether the zaak it names exists."""

    code = "StUF052"
    plek = "client"
    reason = "not-authorised"


class StepFailed(StufBridgeError):
    """A step of a multi-call operation failed; ``cause`` is the original error."""

    def __init__(self, step: str, cause: BaseException, undone: list[str], not_undone: list[str], *,
                 repair: bool = False):
        self.step = step
        self.cause = cause
        self.undone = undone
        self.not_undone = not_undone
        self.repair = repair  # what is left is in the step journal: a resend or `stuf-bridge recover` repairs it
        super().__init__(self.summary())

    def summary(self, cause: str | None = None) -> str:
        """The step, why it failed (``cause``, by default the cause's text) and what was and was not rolled back."""
        text = f"stap '{self.step}' mislukte: {self.cause if cause is None else cause}"
        if self.undone:
            text += f"; teruggedraaid: {', '.join(self.undone)}"
        if self.not_undone and self.repair:
            text += (f"; nog over in ZGW: {', '.join(self.not_undone)} — dit wordt hersteld bij het opnieuw sturen van "
                     "dit bericht (zelfde referentienummer) of met 'stuf-bridge recover'")
        elif self.not_undone:
            text += f"; NIET teruggedraaid (handmatig opruimen): {', '.join(self.not_undone)}"
        return text


def clip(text: str | None, limit: int) -> str | None:
    """Shorten text to a StUF length limit, marking the cut with an ellipsis."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"
