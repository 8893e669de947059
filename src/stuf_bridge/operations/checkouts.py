"""The checkouts the gateway handed out, so that it can check a ``checkedOutId`` itself before it unlocks.

Why: Open Zaak does not compare the lock of an unlock call when the caller holds ``documenten.geforceerd-unlock``
(which "alle autorisaties" includes). A cancelCheckout with a wrong checkedOutId would then silently end another
user's checkout. geefZaakdocumentbewerken therefore records a digest of the lock it hands out, per document; a
cancelCheckout or check-in with a checkedOutId is compared with that record before the gateway unlocks anything.

The record is a named value in the store (``checkout:`` + SHA-256 of the document URL → the first 60 bits of the
SHA-256 of the lock; the lock itself is not stored). It is written before the Du02 goes out and removed when the
gateway unlocks. A checkout the gateway has no record of (taken before this check existed, or straight in the
Documenten API) is not ended by cancelCheckout: the gateway cannot prove the checkedOutId, so it refuses
(``checkout-unknown``); an administrator ends it in the Documenten API.
"""

from __future__ import annotations

import hashlib

from ..errors import ProcessingError
from ..store import Store

PREFIX = "checkout:"


def _name(document_url: str) -> str:
    return PREFIX + hashlib.sha256(document_url.encode()).hexdigest()[:64]


def _digest(lock: str) -> int:
    return int(hashlib.sha256(lock.encode()).hexdigest()[:15], 16)  # 60 bits: fits a signed BIGINT


async def remember(store: Store, document_url: str, lock: str) -> None:
    """Record the lock handed out for the document (replacing an earlier, ended checkout's record)."""
    await store.set_value(_name(document_url), _digest(lock))


async def forget(store: Store, document_url: str) -> None:
    await store.delete_value(_name(document_url))


async def verify(
    store: Store, document_url: str, checked_out_id: str, identificatie: str, *, unknown_is_fault: bool
) -> None:
    """A fault unless ``checked_out_id`` is the lock the gateway handed out for this document: ``lock-incorrect``
    (as the Documenten API's own refusal) when it differs; ``checkout-unknown`` when there is no record and
    ``unknown_is_fault``."""
    recorded = await store.get_value(_name(document_url))
    if recorded is None:
        if unknown_is_fault:
            raise ProcessingError(
                "De checkout is niet door stuf-bridge uitgegeven",
                f"Document {identificatie!r} is uitgecheckt, maar stuf-bridge heeft die checkout niet uitgegeven "
                "(geefZaakdocumentbewerken), dus kan het de checkedOutId niet controleren. Het document blijft "
                "uitgecheckt; een beheerder kan het in de Documenten API ontgrendelen.",
                plek="client",
                reason="checkout-unknown",
            )
        return
    if recorded != _digest(checked_out_id):
        raise ProcessingError(
            "De checkedOutId klopt niet",
            f"De checkedOutId hoort niet bij de huidige checkout van document {identificatie!r}; het document blijft "
            "uitgecheckt.",
            plek="client",
            reason="lock-incorrect",
        )
