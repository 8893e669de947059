"""What can go wrong on the way to the legacy zaaksysteem, as gateway faults (StUF058, plek server).

A legacy answer that *is* a StUF fault is not one of these: it is the legacy system's answer and goes to the client
as it came. These are the cases where the legacy system gave no usable answer at all; each names the endpoint and
what happened, so that an operator reading the fault or the log knows which system to look at. Endpoints never
carry credentials (``legacy/config.py`` refuses them in URLs), so the details never show a password.
"""

from __future__ import annotations

from ..errors import ProcessingError


class LegacyError(ProcessingError):
    """The legacy system could not be used for this message."""

    code = "StUF058"
    plek = "server"
    reason = "legacy-error"
    omschrijving_text = "Het legacy-zaaksysteem gaf geen bruikbaar antwoord"

    def __init__(self, endpoint: str, what: str):
        super().__init__(self.omschrijving_text, f"{endpoint}: {what}")
        self.endpoint = endpoint
        self.what = what


class LegacyNotConfigured(LegacyError):
    reason = "legacy-not-configured"
    omschrijving_text = "Voor deze service is geen legacy-zaaksysteem ingesteld"


class LegacyUnavailable(LegacyError):
    reason = "legacy-unavailable"
    omschrijving_text = "Het legacy-zaaksysteem is niet bereikbaar"


class LegacyTimeout(LegacyError):
    reason = "legacy-timeout"
    omschrijving_text = "Het legacy-zaaksysteem antwoordt niet op tijd"


class LegacyNotSoap(LegacyError):
    reason = "legacy-not-soap"
    omschrijving_text = "Het legacy-zaaksysteem gaf een antwoord dat geen SOAP is"
