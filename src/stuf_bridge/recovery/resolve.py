"""Resolving an unfinished message from its step journal: find out what an unknown write did, then compensate
or complete by one rule.

**Finding out.** A write whose outcome is ``intent`` (the process died during the call) or ``unknown`` (timeout,
dropped connection, 502/504) is looked up in ZGW, never guessed:

=============================  ====================================================================================
write                          how it is found
=============================  ====================================================================================
POST zaken                     by identificatie + bronorganisatie; without identificatie (ZGW numbers it): the
                               zaken of that zaaktype, bronorganisatie and startdatum whose fields all equal the
                               body sent, and no other message's; more than one such zaak is reported, not guessed
POST rollen / zaakobjecten     the zaak's rollen / zaakobjecten whose fields equal the body sent (roltype,
                               betrokkeneType, betrokkeneIdentificatie …)
POST statussen / resultaten    the zaak's statussen of that statustype at that datumStatusGezet / its resultaat of
                               that resultaattype
POST zaakeigenschappen         the zaak's eigenschappen of that eigenschap and waarde
POST enkelvoudiginformatie…    by identificatie + bronorganisatie
POST zaak-/besluitinformatie…  by zaak/besluit + informatieobject
POST besluiten                 by identificatie + verantwoordelijkeOrganisatie (else the zaak's besluiten of that
                               besluittype and datum)
PATCH / PUT                    taken as done: its undo (the earlier values) is the same either way
DELETE                         GET of the URL: 404 means it happened
=============================  ====================================================================================

**The rule.** ZRC has no DELETE on statussen; every flow therefore posts its statussen last, after everything that
can be undone. So:

- if a status was written on a zaak that the message did not create (updateZaak, actualiseerZaakstatus …), every
  earlier write of the message happened too: the message is **completed** — nothing is undone, and a resend is
  answered Bv03;
- otherwise the message is **compensated**: its writes are undone newest first (a created object deleted — a
  document still locked by its upload unlocked first; a PATCH/PUT patched back to the earlier values recorded
  before the call; a removed object posted back). A status on a zaak the message created goes with that zaak's
  DELETE. A resend then runs the message anew, against a ZGW that no longer has any of it.

What cannot be undone or found out now (the backend is still away) is reported by name and stays in the journal;
the next attempt (a resend, the periodic sweep, ``stuf-bridge recover``) tries again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from ..zgw.documents import patch_under_own_lock
from ..zgw.errors import ZgwError, ZgwNotFound, ZgwValidationError
from .context import COMPENSATING
from .journal import Journal, Key, Row

if TYPE_CHECKING:
    from ..zgw import ZgwClients

log = structlog.get_logger(__name__)

#: Objects that belong to a zaak and go with its DELETE.
_ZAAK_PARTS = frozenset({"rollen", "statussen", "zaakobjecten", "resultaten", "zaakeigenschappen",
                         "zaakinformatieobjecten"})


@dataclass
class Resolution:
    """``clean``: nothing of the message is left in ZGW (undone, or it never got there); ``completed``: the message
    is done in ZGW (rule above); ``left``: something could not be undone or found out yet (``left`` names it)."""

    outcome: str
    undone: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"uitkomst: {self.outcome}"]
        if self.found:
            parts.append("gevonden in ZGW: " + ", ".join(self.found))
        if self.undone:
            parts.append("teruggedraaid: " + ", ".join(self.undone))
        if self.left:
            parts.append("nog over: " + ", ".join(self.left))
        return "; ".join(parts)


async def resolve(zgw: ZgwClients, journal: Journal, key: Key, *, settle_seconds: float = 60.0,
                  wait: bool = True) -> Resolution:
    """Resolve the message ``key`` by the rule above; its journal rows are updated as it goes.

    A write of unknown outcome that is not (yet) in ZGW may still be on its way (a slow backend finishes a request
    the gateway stopped waiting for): it only counts as not done once it is ``settle_seconds`` old. Until then the
    look-up is repeated (``wait``) or the message stays unresolved (``wait=False``: the failing message itself,
    whose sender is waiting, and the sweep)."""
    token = COMPENSATING.set(True)
    try:
        return await _resolve(zgw, journal, key, dt.timedelta(seconds=settle_seconds), wait)
    finally:
        COMPENSATING.reset(token)


async def _resolve(zgw: ZgwClients, journal: Journal, key: Key, settle: dt.timedelta, wait: bool) -> Resolution:
    rows = await journal.rows(key)
    result = Resolution("clean")
    # 1. find out what the writes of unknown outcome did
    settled: list[Row] = []
    gone_zaken: set[str] = set()
    for row in rows:
        if row.state == "planned":  # journalled up front and never sent (its intent is committed before sending)
            await journal.settle(key, row.seq, "failed", None)
            row = _with(row, state="failed")
        elif row.state in ("intent", "unknown") and row.method == "POST" and row.resource in _ZAAK_PARTS \
                and (row.body or {}).get("zaak") in gone_zaken:
            await journal.settle(key, row.seq, "undone", None)  # went with its zaak (or never got there)
            row = _with(row, state="undone")
        elif row.state in ("intent", "unknown"):
            known = {r.created for r in settled + rows if r.created}
            try:
                found = await _probe(zgw, row, known)
                while found is None and _age(row) < settle:
                    if not wait:
                        result.left.append(f"{row.describe()}: nog niet vast te stellen of het is gebeurd (ZGW kan "
                                           "het nog verwerken)")
                        return _left(result)
                    await asyncio.sleep(min(0.5, (settle - _age(row)).total_seconds()))
                    found = await _probe(zgw, row, known)
            except _Unknowable as exc:
                result.left.append(f"{row.describe()}: uitkomst onbekend ({exc.summary})")
                return _left(result)
            except ZgwError as exc:
                result.left.append(f"{row.describe()}: uitkomst onbekend, ZGW niet bereikbaar ({exc.summary})")
                return _left(result)
            if found is None:
                await journal.settle(key, row.seq, "failed", None)
                row = _with(row, state="failed")
            else:
                await journal.settle(key, row.seq, "done", found)
                row = _with(row, state="done", result=found)
                result.found.append(row.describe())
        if row.method == "POST" and row.resource == "zaken" and row.state == "undone" and row.created:
            gone_zaken.add(row.created)
        settled.append(row)
    # 2. the rule: a status on a zaak the message did not create cannot be undone → the message is complete
    created_zaken = {r.created for r in settled if r.method == "POST" and r.resource == "zaken"
                     and r.state in ("done", "undone") and r.created}
    if _completed(settled, created_zaken):
        # the statussen after the first one that failed (or were not found): rolled forward, in order
        for index, row in enumerate(settled):
            if row.seq in _unwritten_statussen(settled, created_zaken):
                try:
                    done = await _roll_forward(zgw, journal, key, row)
                except ZgwError as exc:
                    result.left.append(f"{row.describe()}: nog te zetten, ZGW niet bereikbaar ({exc.summary}); "
                                       "de eerdere wijzigingen van het bericht staan al in ZGW")
                    return _left(result)
                settled[index] = done
                result.found.append(f"{row.describe()} (alsnog gezet)")
        result.outcome = "completed"
        return result
    # 3. compensate, newest first
    for row in reversed(settled):
        if row.state != "done":
            continue
        try:
            undone = await _undo(zgw, row, created_zaken)
        except ZgwError as exc:
            result.left.append(f"{row.describe()} ({exc.summary})")
            continue
        if undone is None:
            result.left.append(f"{row.describe()} (niet automatisch terug te draaien)")
            continue
        await journal.mark(key, [row.seq], "undone")
        if undone:
            result.undone.append(row.describe())
    return _left(result) if result.left else result


def _completed(rows: list[Row], created_zaken: set[str]) -> bool:
    """The rule: a status written on a zaak the message did not create, while nothing of the message was undone,
    means every earlier write happened: the message is complete. (Had earlier writes been undone already, the
    status stays — it cannot be removed — and the rest is compensated; the resend then runs the message again,
    and updateZaak and actualiseerZaakstatus skip a status that is the zaak's current one already.)"""
    if any(row.state == "undone" for row in rows):
        return False
    return any(row.state == "done" and row.method == "POST" and row.resource == "statussen"
               and (row.body or {}).get("zaak") not in created_zaken for row in rows)


async def status_written_after_all(zgw: ZgwClients, journal: Journal, key: Key,
                                   seqs: list[int]) -> dict[str, Any] | None:
    """A status write of a running message whose answer was lost (timeout, dropped connection): looked up in ZGW.
    Found, its row is done and the flow goes on with the statussen after it (a message with two statussen must not
    end, complete by the rule, with only the first); None when it is not (yet) there, or the write was another."""
    if len(seqs) != 1:
        return None
    token = COMPENSATING.set(True)
    try:
        row = next((r for r in await journal.rows(key) if r.seq == seqs[0]), None)
        if row is None or row.state not in ("intent", "unknown") or row.method != "POST" \
                or row.resource != "statussen":
            return None
        try:
            found = await _probe(zgw, row, set())
        except _Unknowable:
            return None
        if found is not None:
            await journal.settle(key, row.seq, "done", found)
            log.info("status_found_after_all", referentienummer=key[1], step=row.describe())
        return found
    finally:
        COMPENSATING.reset(token)


def _unwritten_statussen(rows: list[Row], created_zaken: set[str]) -> set[int]:
    """The statussen (on a zaak the message did not create) that come after one that was written and did not happen
    themselves: a message counted complete by the rule still needs them (an updateZaak with two statussen whose
    second failed). Statussen are a flow's last writes, so nothing else follows them."""
    first = next((i for i, row in enumerate(rows) if row.state == "done" and row.method == "POST"
                  and row.resource == "statussen" and (row.body or {}).get("zaak") not in created_zaken), None)
    if first is None:
        return set()
    return {row.seq for row in rows[first + 1:] if row.state in ("failed", "planned") and row.method == "POST"
            and row.resource == "statussen" and row.body}


async def _roll_forward(zgw: ZgwClients, journal: Journal, key: Key, row: Row) -> Row:
    """Write a status again with the body recorded in its intent; the row becomes done."""
    assert row.body is not None
    created = await zgw.for_url(row.url).create(row.url, row.body)
    found = {"url": created.get("url")} if isinstance(created, Mapping) and created.get("url") else None
    await journal.settle(key, row.seq, "done", found)
    log.info("status_rolled_forward", referentienummer=key[1], step=row.describe())
    return _with(row, state="done", result=found)


async def completed_after_all(zgw: ZgwClients, journal: Journal, key: Key) -> bool:
    """Before a failed message is undone: whether its failing write was a status that did happen (its answer was
    lost), which makes the message complete by the rule. Only statussen are looked up here, without waiting."""
    token = COMPENSATING.set(True)
    try:
        rows = await journal.rows(key)
        if not any(r.state in ("intent", "unknown", "failed", "planned") and r.method == "POST"
                   and r.resource == "statussen"
                   for r in rows):
            return False
        settled = []
        for row in rows:
            if row.state in ("intent", "unknown") and row.method == "POST" and row.resource == "statussen":
                found = await _probe(zgw, row, set())
                if found is not None:
                    await journal.settle(key, row.seq, "done", found)
                    row = _with(row, state="done", result=found)
            settled.append(row)
        created = {r.created for r in settled if r.method == "POST" and r.resource == "zaken" and r.created}
        if not _completed(settled, created):
            return False
        for row in settled:  # a later status that failed: rolled forward now (else the undo log compensates)
            if row.seq in _unwritten_statussen(settled, created):
                try:
                    await _roll_forward(zgw, journal, key, row)
                except ZgwError:
                    return False
        return True
    finally:
        COMPENSATING.reset(token)


def _age(row: Row) -> dt.timedelta:
    return dt.datetime.now(dt.UTC) - row.created_at


def _left(result: Resolution) -> Resolution:
    result.outcome = "left"
    return result


def _with(row: Row, **changes: Any) -> Row:
    return Row(**{**row.__dict__, **changes})


# --- undo -----------------------------------------------------------------------------------------------------


async def _undo(zgw: ZgwClients, row: Row, created_zaken: set[str]) -> bool | None:
    """Undo one done write: True (undone), False (nothing to do), None (no way to undo it automatically)."""
    resource = row.resource
    if row.method == "POST":
        if resource == "unlock" or "bestandsdelen" in row.url:
            return False  # the document's own DELETE removes the upload
        if resource == "lock":  # without the lock value (lost with the answer): unlocked by force
            lock = (row.result or {}).get("lock")
            document = row.url.rsplit("/", 1)[0]
            try:
                await zgw.for_url(document).post(f"{document}/unlock", {"lock": lock} if lock else {})
            except (ZgwNotFound, ZgwValidationError):  # gone, or unlocked already
                return False
            return True
        if resource == "statussen":  # goes with its zaak; on another zaak it stays (see _completed)
            return False
        created = row.created
        if not created:
            return None
        try:
            if resource == "enkelvoudiginformatieobjecten":
                await _discard(zgw, created, (row.result or {}).get("lock"))
            else:
                await zgw.for_url(created).delete(created)
        except ZgwNotFound:
            return False
        return True
    if row.method == "PUT" and "bestandsdelen" in row.url:
        return False
    plan = row.undo
    if not plan:
        return None
    client = zgw.for_url(plan["url"])
    if plan.get("lock"):  # a document's PATCH under the gateway's own lock: the same way back
        await patch_under_own_lock(client, plan["url"], plan["body"], force=True)
    elif plan["method"] == "PATCH":
        await client.patch(plan["url"], plan["body"])
    elif plan["method"] == "PUT":
        await client.update(plan["url"], plan["body"])
    else:
        await client.create(plan["url"], plan["body"])
    return True


async def _discard(zgw: ZgwClients, url: str, lock: str | None) -> None:
    """Delete a document the message created. Its lock, when the answer that carried it was lost, is unknown: the
    document is then unlocked by force (DRC: the gateway needs scope ``documenten.geforceerd-unlock``)."""
    from ..zgw.documents import discard_document

    if not lock and (await zgw.documenten.get(url)).get("locked"):
        await zgw.documenten.post(f"{url}/unlock", {})
    await discard_document(zgw, url, lock)


# --- probes ---------------------------------------------------------------------------------------------------


async def _probe(zgw: ZgwClients, row: Row, known: set[str]) -> dict[str, Any] | None:
    """What an unknown write did in ZGW: the journal's result (``url`` of what it created; for PATCH/PUT/DELETE
    the URL written) if it happened, None if it did not."""
    body = row.body or {}
    if row.method in ("PATCH", "PUT"):
        if "bestandsdelen" in row.url:
            return {"url": row.url}
        return {"url": row.url}  # restoring the earlier values is right whether or not it happened
    if row.method == "DELETE":
        try:
            await zgw.get(row.url)
        except ZgwNotFound:
            return {"url": row.url}
        return None
    resource = row.resource
    client = zgw.for_url(row.url)
    candidates: list[dict[str, Any]]
    if resource in ("zaken", "enkelvoudiginformatieobjecten") and body.get("identificatie"):
        candidates = await client.list(row.url, {"identificatie": body["identificatie"],
                                                 "bronorganisatie": body.get("bronorganisatie", "")})
    elif resource == "zaken":
        params = {name: body[name] for name in ("zaaktype", "bronorganisatie", "startdatum") if body.get(name)}
        candidates = await client.list(row.url, params)
    elif resource == "besluiten" and body.get("identificatie"):
        candidates = await client.list(row.url, {"identificatie": body["identificatie"],
                                                 "verantwoordelijkeOrganisatie":
                                                     body.get("verantwoordelijkeOrganisatie", "")})
    elif resource == "besluiten" and body.get("zaak"):
        candidates = await client.list(row.url, {"zaak": body["zaak"]})
    elif resource in _ZAAK_PARTS - {"zaakeigenschappen"} and body.get("zaak"):
        params = {"zaak": body["zaak"]}
        if resource == "zaakinformatieobjecten" and body.get("informatieobject"):
            params["informatieobject"] = body["informatieobject"]
        candidates = await client.list(row.url, params)
    elif resource == "zaakeigenschappen":
        candidates = await client.list(row.url)
    elif resource == "besluitinformatieobjecten" and body.get("besluit"):
        candidates = await client.list(row.url, {"besluit": body["besluit"]})
    elif resource in ("lock", "unlock"):  # the document's state says it (the lock value itself was in the answer)
        document = row.url.rsplit("/", 1)[0]
        try:
            locked = bool((await zgw.documenten.get(document)).get("locked"))
        except ZgwNotFound:
            return {"url": document} if resource == "unlock" else None
        return {"url": document} if locked == (resource == "lock") else None
    else:
        raise _unprobeable(row)
    matches = [c for c in candidates if equal_fields(body, c) and c.get("url") not in known]
    if not matches:
        return None
    if len(matches) > 1 and resource in ("zaken", "besluiten"):
        raise _unprobeable(row, f"{len(matches)} gelijke objecten; niet vast te stellen welk van dit bericht is")
    found = matches[-1]
    return {name: found[name] for name in ("url", "identificatie", "zaak") if found.get(name) is not None}


class _Unknowable(ZgwError):
    """ZGW answers, but cannot tell whether the write happened."""


def _unprobeable(row: Row, why: str = "niet na te gaan") -> ZgwError:
    return _Unknowable(f"{row.method} {row.resource}: {why}")


def equal_fields(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    """Whether a stored object carries every value sent (keys the API does not echo are ignored; lists are not
    compared; dates and times compared as moments). Also what updateZaak's rol replacement finds a rol by that an
    earlier copy of the message made already."""
    for name, value in sent.items():
        if name in ("inhoud", "lock") or name not in stored or value in (None, "", [], {}):
            continue
        other = stored[name]
        if isinstance(value, dict):
            if not isinstance(other, dict) or not equal_fields(value, other):
                return False
        elif isinstance(value, list):
            continue
        elif not _same_value(value, other):
            return False
    return True


def _same_value(sent: Any, stored: Any) -> bool:
    if sent == stored:
        return True
    if isinstance(sent, str) and isinstance(stored, str):
        a, b = _moment(sent), _moment(stored)
        if a is not None and b is not None:
            return a == b
        return sent.strip() == stored.strip()
    if isinstance(sent, (int, float)) and isinstance(stored, (int, float, str)):
        try:
            return float(sent) == float(stored)
        except ValueError:
            return False
    return False


def _moment(text: str) -> dt.datetime | dt.date | None:
    if len(text) < 10 or text[4:5] != "-":
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
