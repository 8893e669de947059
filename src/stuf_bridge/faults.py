"""Where an error becomes a StUF fault: one table from error class to fault, and ``to_fault``.

This is the only module that knows both the gateway's error classes (``zgw``, ``store``) and the StUF fault
vocabulary (code, plek, omschrijving, details, reason); ``zgw/`` raises errors that carry data, not StUF texts.

``to_fault`` finds an error's entry the way Starlette finds an exception handler (``_lookup_exception_handler``):
along the class's MRO, so the most specific class listed wins and a class not listed gets its parent's entry. The
client sees the StUF code, plek and Dutch omschrijving (MAPPING.md §1.3); the ``reason`` beside them is our own
stable code, which the logs, the trace and the tests use. An error not in the table is a bug: an internal-error
fault whose details do not quote it (the gateway logs it whole).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from .errors import (
    DETAILS_MAX,
    OMSCHRIJVING_MAX,
    BackendTimeout,
    BackendUnavailable,
    Fault,
    ProcessingError,
    StepFailed,
    clip,
)
from .store.errors import StoreError
from .zgw.catalogue import CatalogueAmbiguous, CatalogueLookupError, CatalogueNotFound
from .zgw.errors import (
    ZgwAmbiguous,
    ZgwAuthError,
    ZgwBadResponse,
    ZgwClientError,
    ZgwConflict,
    ZgwError,
    ZgwLocked,
    ZgwLockMissing,
    ZgwNotFound,
    ZgwNotLocked,
    ZgwPreconditionFailed,
    ZgwServerError,
    ZgwTimeout,
    ZgwTooLarge,
    ZgwUnavailable,
    ZgwValidationError,
    ZgwWrongLock,
)

Factory = Callable[[Any], Fault]

INTERNAL_ERROR = "internal-error"


def _fault(
    cls: type[Fault], omschrijving: str, *, reason: str, plek: str | None = None, uitleg: str | None = None
) -> Factory:
    """A factory for a fault of class ``cls`` whose details quote the error (after ``uitleg``, if given)."""

    def make(exc: BaseException) -> Fault:
        details = f"{uitleg}: {exc}" if uitleg else str(exc)
        return cls(omschrijving, details, plek=plek, reason=reason)

    return make


def _transport(cls: type[Fault], omschrijving: str, *, reason: str, what: str, plek: str | None = None) -> Factory:
    """A factory for a ZGW error met in transport (no answer, or none readable). Its details name the call and what
    happened in the client's terms; the HTTP library's exception text (``ConnectError: [Errno -2] …``) stays in the
    log and the trace (issue 18, finding 8). An error with an HTTP status (429, 503) quotes the backend as usual."""

    def make(exc: ZgwError) -> Fault:
        if exc.status is not None or exc.method is None or exc.url is None:
            return cls(omschrijving, str(exc), plek=plek, reason=reason)
        path = httpx.URL(exc.url).path
        return cls(omschrijving, f"{exc.method} {path} → {what}; de oorzaak staat in het log van stuf-bridge.",
                   plek=plek, reason=reason)

    return make


def _ambiguous(exc: ZgwAmbiguous) -> Fault:
    return ProcessingError(
        f"{exc.what} {exc.identificatie} is niet eenduidig"[:OMSCHRIJVING_MAX],
        f"Meer dan één {exc.what.lower()} met identificatie {exc.identificatie!r}: " + ", ".join(exc.candidates),
        plek="client",
        reason="ambiguous-identificatie",
    )


def _store_unavailable(exc: StoreError) -> Fault:
    # the database URL and the driver's text stay in the log (the gateway logs them), out of the answer
    return BackendUnavailable(
        "De opslag van stuf-bridge is niet beschikbaar",
        "De gateway kon zijn opslag (database) niet bereiken of daarin niet schrijven; de oorzaak staat in het log "
        "van stuf-bridge.",
        reason="store-unavailable",
    )


_REFUSED = "De ZGW-API weigert de gegevens"
_UNEXPECTED = "Onverwacht antwoord van de ZGW-API"
_UNAVAILABLE = "De ZGW-API is niet beschikbaar"
_CATALOGUE = "Niet gevonden in de catalogus"

#: Error class → the fault it becomes. ``to_fault`` looks a class up along its MRO.
FAULTS: dict[type[BaseException], Factory] = {
    # the ZGW APIs (MAPPING.md §1.3), quoting the backend's reason
    ZgwError: _fault(ProcessingError, _UNEXPECTED, plek="server", reason="zgw-unexpected"),
    ZgwBadResponse: _transport(ProcessingError, _UNEXPECTED, plek="server", reason="zgw-bad-response",
                               what="onleesbaar antwoord"),
    ZgwClientError: _fault(ProcessingError, _REFUSED, plek="client", reason="zgw-refused"),
    ZgwValidationError: _fault(ProcessingError, _REFUSED, plek="client", reason="zgw-invalid"),
    ZgwNotFound: _fault(ProcessingError, _REFUSED, plek="client", reason="zgw-not-found"),
    ZgwConflict: _fault(ProcessingError, _REFUSED, plek="client", reason="zgw-conflict"),
    ZgwPreconditionFailed: _fault(ProcessingError, _REFUSED, plek="client", reason="zgw-precondition-failed"),
    # the gateway's own credentials: not the client's doing
    ZgwAuthError: _fault(ProcessingError, "De ZGW-API weigert de gateway (autorisatie)", plek="server",
                         reason="zgw-auth"),
    ZgwTimeout: _transport(BackendTimeout, "De ZGW-API antwoordt niet op tijd", reason="zgw-timeout",
                           what="geen antwoord op tijd"),
    ZgwServerError: _fault(BackendUnavailable, _UNAVAILABLE, reason="zgw-server-error"),
    ZgwUnavailable: _transport(BackendUnavailable, _UNAVAILABLE, reason="zgw-unavailable", what="niet bereikbaar"),
    ZgwAmbiguous: _ambiguous,
    # the Documenten API: what a client can act on
    ZgwTooLarge: _fault(ProcessingError, "Het document is te groot voor de ZGW-API", plek="client",
                        reason="document-too-large",
                        uitleg="De Documenten API weigert de inhoud als te groot (413)"),
    ZgwWrongLock: _fault(ProcessingError, "De checkedOutId klopt niet", plek="client", reason="lock-incorrect",
                         uitleg="Het document is uitgecheckt met een andere checkedOutId"),
    ZgwLockMissing: _fault(ProcessingError, "De checkedOutId ontbreekt", plek="client", reason="lock-missing",
                           uitleg="Het document is uitgecheckt; geef de checkedOutId mee"),
    ZgwNotLocked: _fault(ProcessingError, "Het document is niet uitgecheckt", plek="client",
                         reason="document-not-locked",
                         uitleg="Het document heeft geen lock; check het eerst uit (geefZaakdocumentbewerken)"),
    ZgwLocked: _fault(ProcessingError, "Het document is al uitgecheckt", plek="client", reason="document-locked",
                      uitleg="Het document heeft al een lock; eerst inchecken (updateZaakdocument) of cancelCheckout"),
    # the catalogue: the details name what was searched and what exists
    CatalogueLookupError: _fault(ProcessingError, _CATALOGUE, plek="client", reason="catalogue-lookup"),
    CatalogueNotFound: _fault(ProcessingError, _CATALOGUE, plek="client", reason="catalogue-not-found"),
    CatalogueAmbiguous: _fault(ProcessingError, _CATALOGUE, plek="client", reason="catalogue-ambiguous"),
    # the gateway's own store
    StoreError: _store_unavailable,
}


def to_fault(exc: BaseException) -> Fault:
    """The StUF fault for any error raised while handling a message."""
    if isinstance(exc, Fault):
        return exc
    if isinstance(exc, StepFailed):
        return _step_fault(exc)
    factory = lookup(type(exc))
    return factory(exc) if factory is not None else internal_error()


def lookup(cls: type[BaseException]) -> Factory | None:
    """The table's entry for ``cls``: its own, or that of the nearest class it derives from."""
    for klass in cls.__mro__:
        if klass in FAULTS:
            return FAULTS[klass]
    return None


def is_internal(fault: Fault) -> bool:
    """Whether the fault stands for a bug (an error no table entry knows)."""
    return fault.reason == INTERNAL_ERROR


def internal_error() -> Fault:
    return ProcessingError(
        "Interne fout in stuf-bridge",
        "Er ging in stuf-bridge iets onverwachts mis; de oorzaak staat in het log van stuf-bridge.",
        plek="server",
        reason=INTERNAL_ERROR,
    )


def _step_fault(failed: StepFailed) -> Fault:
    """The fault of the step's cause, with details that name the step, why it failed and what was (not) rolled
    back. Why is the cause fault's omschrijving, or its details for an error the table translated (the backend's
    reason; never the text of a bug or of the store's driver, which the table keeps out)."""
    fault = to_fault(failed.cause)
    why = fault.omschrijving if isinstance(failed.cause, Fault) else fault.details or fault.omschrijving
    return fault.with_details(clip(failed.summary(why), DETAILS_MAX))
