"""Stage *claim*: nothing twice (StUF §4.4). A message that changes something is claimed in the store under its
zender + referentienummer before the stages behind it run, and its answer is stored after. A resend with the same
body gets the stored answer without running them again; one that arrives while the first copy is still being
processed waits for it; the same referentienummer with another body is StUF016. A message that failed releases its
claim, so that the client can send it again. Questions (Lv01) and acknowledgements are not claimed.

That is the ``strict`` policy, the default: StUF §4.4 makes zender + referentienummer name one message, and a
changed body under a known referentienummer is more often a client that re-serialised a resend than a new message,
so processing it would risk doing it twice. ``idempotency_senders`` relaxes it per sender: ``by_body`` (a client
that reuses one referentienummer for every message: the body digest becomes part of the key, so only the same
body is a resend) and ``off`` (nothing is claimed).

A proxied message is not claimed either: the legacy system is then the end node that answers a resend (StUF §4.4
puts that duty on the receiver that processed the message, and it has its own record of what it did), and storing
the gateway's copy would mean buffering every proxied answer, documents included, and answering a resend with a
legacy answer the legacy system might no longer give.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from datetime import timedelta

import structlog
from lxml import etree

from ..content import Content, Outbound
from ..errors import DETAILS_MAX, ProcessingError, StepFailed, StuurgegevensError, clip
from ..recovery.context import JOURNAL
from ..recovery.journal import Busy, Journal, MessageJournal
from ..recovery.resolve import resolve
from ..recovery.service import journal_for
from ..settings import IdempotencyPolicy
from ..store import StoreError
from ..stuf.namespaces import STUF
from ..stuf.answers import bevestiging
from ..stuf.registry import Operation
from ..stuf.stuurgegevens import Stuurgegevens
from ..zgw.documents import download_source
from .exchange import Environment, Exchange, Next
from .route import Mode

log = structlog.get_logger(__name__)

_CHANGING = frozenset({"Lk01", "Di01", "Di02", "Du01"})
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_TIJDSTIP_TAG = f"{{{STUF}}}tijdstipBericht"

# In the stored copy of an answer, a document element carries "<size> <download URL>" here, so that a resend —
# typically after a timeout, when the client did not get the document — gets the document again.
_REPLAY_NS = "urn:stuf-bridge:idempotency"
_REPLAY = f"{{{_REPLAY_NS}}}inhoud"


class Claim:
    name = "claim"

    def __init__(self, env: Environment):
        self.env = env

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        assert x.operation is not None and x.stuurgegevens is not None and x.request is not None
        proxied = x.route is not None and x.route.mode is Mode.PROXY
        key = None if proxied else idempotency_key(x.operation, x.stuurgegevens)
        if key is not None and x.route is not None and x.route.replica:  # the outbox's delivery to ZGW
            key = (f"{key[0]}|replica", key[1])
        if key is not None and x.env.tenant is not None:  # a referentienummer answers resends of its tenant only
            key = (f"{key[0]}|tenant={x.env.tenant}", key[1])
        zender = x.stuurgegevens.zender
        policy = IdempotencyPolicy.OFF if zender is None else self.env.settings.idempotency_policy_for(
            zender.organisatie, zender.applicatie)
        if x.route is not None and x.route.replica:
            # the outbox's own delivery: a retry after a crash mid-delivery must never create anything twice, so it
            # is claimed whatever the sender's policy, by body (the stored request is byte for byte the same each
            # time, and a sender whose policy is off may reuse a referentienummer for other messages)
            policy = IdempotencyPolicy.BY_BODY
        if key is None or policy is IdempotencyPolicy.OFF:
            await call_next(x)
            if x.outbox:  # replicate for a sender whose messages are not claimed: the secondary leg still goes
                await self.env.store.enqueue_outbox(x.outbox)
            return
        body_digest, ref = await digest_off_loop(x.request.body, x.request.contents), key[1]
        if policy is IdempotencyPolicy.BY_BODY:  # another body under this referentienummer is another message
            key = (key[0], f"{key[1]}|{body_digest[:32]}")
        # a tenant's message is journalled like any other: its key names the tenant (``|tenant=NAME``), and its
        # recovery — here, at start-up, in the sweep, by ``stuf-bridge recover`` — uses that tenant's ZGW clients
        journal = self._journal(x)
        if journal is None:
            await self._claimed(x, call_next, key, body_digest, ref, None)
            return
        await journal.ensure_registered()  # the claim names its holder
        # one copy of a message at a time in this process, and never while the sweep or the outbox recovers it
        try:
            async with journal.working(key, wait=self.env.settings.idempotency_wait_seconds):
                await self._claimed(x, call_next, key, body_digest, ref, journal)
        except Busy:  # only the wait for the work lock: a timeout inside the flow is the flow's own fault
            raise self._in_progress(ref) from None

    async def _claimed(self, x: Exchange, call_next: Next, key: tuple[str, str], body_digest: str, ref: str,
                       journal: Journal | None) -> None:
        """The message, claimed: a resend answered from the store, or processed (repairing an earlier copy first)
        and its answer stored."""
        assert x.operation is not None
        stored, earlier = await self._claim(key, x.operation, body_digest, ref, journal)
        if stored is not None:
            x.warnings.append("herhaald bericht: het eerder gegeven antwoord is teruggestuurd")
            x.answer = self._replayed(etree.fromstring(stored), x)
            x.replayed = True
            return
        token = None
        if journal is not None:
            if earlier:  # the claim found a journal of an earlier copy (it failed, or its process died)
                try:
                    if await self._repair(journal, key, x):  # an earlier copy's writes are all there: Bv03
                        if await self.env.store.complete_message(
                                *key, for_storage(x.answer, ()), (),  # type: ignore[arg-type]
                                owner=journal.owner.id) is False:
                            raise self._took_over()
                        await journal.finish(key)
                        return
                except BaseException:
                    await self._release(key)
                    raise
            # without an earlier journal no message row is written: its first write row stands for it
            token = JOURNAL.set(journal.for_message(key, x.operation.name, x.env.zgw, opened=earlier))
        try:
            await call_next(x)
            self._check_fence()
        except BaseException as exc:
            self._check_fence(exc)
            completed = False
            if journal is not None:  # find out what the failed message left in ZGW, and resolve it
                completed = await self._after_failure(journal, key, exc, x)
            if not completed:
                await self._release(key)  # nothing is left (or the journal has it): a resend is processed anew
                raise
        finally:
            if token is not None:
                JOURNAL.reset(token)
        if x.answer is None:  # a mode handler passed on another system's fault (replicate, primary legacy)
            await self.env.store.release_message(*key)
            return
        outbound = x.context.outbound if x.has_context else ()
        # fenced: stored only while the claim is still this process's (recovery may have taken it over after the
        # last journalled write, while this process was paused); else the fault says so and nothing is stored
        if await self.env.store.complete_message(*key, for_storage(x.answer, outbound), x.outbox,
                                                 owner=journal.owner.id if journal is not None else None) is False:
            x.answer = None
            raise self._took_over()
        # The journal of an answered message is forgotten by the sweep (Journal.purge_done), not here: one commit
        # less per message; until then recovery sees its claim is done and leaves it alone (service.py).

    # --- the step journal (recovery/) ---------------------------------------------------------------------

    def _journal(self, x: Exchange) -> Journal | None:
        if x.env.zgw is None or not self.env.settings.recovery.enabled:
            return None
        return journal_for(self.env.store, lease_seconds=self.env.settings.recovery.lease_seconds)

    async def _release(self, key: tuple[str, str]) -> None:
        try:
            await self.env.store.release_message(*key)
        except StoreError as exc:
            log.error("idempotency_release_failed", referentienummer=key[1], error=str(exc))

    async def _repair(self, journal: Journal, key: tuple[str, str], x: Exchange) -> bool:
        """Before a claimed message runs: if an earlier copy left writes in the journal (it failed, or its process
        died), resolve them first. True when the earlier copy turned out complete (``x.answer`` is then its Bv03);
        a resolution that cannot finish now (ZGW still away) is a fault that says so, and nothing runs."""
        assert x.operation is not None and x.env.zgw is not None  # the message's tenant's backend, or the gateway's
        if await journal.begin(key, x.operation.name):
            return False
        message = await journal.message(key)
        if message is not None and message.owner == journal.owner.id and message.state == "active":
            await journal.finish(key)  # an earlier copy answered here, its journal not yet swept: nothing to repair
            await journal.begin(key, x.operation.name)
            return False
        if message is not None and message.state == "active":
            await journal.take(key, message.owner)  # its process is gone: the claim was taken over from it
        if message is None or message.state != "completed":
            resolution = await resolve(x.env.zgw, journal, key,
                                       settle_seconds=self.env.settings.recovery.settle_seconds)
            if resolution.outcome == "left":
                await journal.set_message(key, "unfinished")
                raise ProcessingError(
                    "Een eerder exemplaar van dit bericht is nog niet hersteld",
                    clip(f"ZGW kon nog niet worden hersteld ({resolution.summary()}); stuur het bericht later "
                         "opnieuw, of laat de beheerder 'stuf-bridge recover' uitvoeren.", DETAILS_MAX),
                    plek="server", reason="recovery-pending",
                )
            if resolution.outcome == "clean":
                await journal.finish(key)
                await journal.begin(key, x.operation.name)
                x.warnings.append("een eerder, onvolledig verwerkt exemplaar van dit bericht is eerst teruggedraaid")
                return False
            await journal.set_message(key, "completed")
        return self._completed(x)

    async def _after_failure(self, journal: Journal, key: tuple[str, str], exc: BaseException,
                             x: Exchange) -> bool:
        """Resolve what a failed message left; True when it turned out complete (answered Bv03 after all)."""
        assert x.env.zgw is not None
        message_journal = JOURNAL.get()
        if isinstance(message_journal, MessageJournal):
            try:
                await asyncio.shield(message_journal.flush())
            except StoreError as error:
                log.error("journal_failed", referentienummer=key[1], error=str(error))
        if not isinstance(exc, Exception):  # cancelled: the sweep resolves it
            try:
                await asyncio.shield(journal.set_message(key, "unfinished"))
            except StoreError as error:
                log.error("journal_failed", referentienummer=key[1], error=str(error))
            return False
        try:
            resolution = await resolve(x.env.zgw, journal, key, wait=False,
                                       settle_seconds=self.env.settings.recovery.settle_seconds)
            if resolution.outcome == "clean":
                await journal.finish(key)
            elif resolution.outcome == "completed" and self._completed(x):
                return True
            else:
                await journal.set_message(key, "unfinished")
        except StoreError as error:
            log.error("journal_failed", referentienummer=key[1], error=str(error))
            return False
        if isinstance(exc, StepFailed):
            exc.undone.extend(resolution.undone)
            exc.not_undone[:] = resolution.left
            exc.repair = bool(resolution.left)
        elif resolution.left:
            raise StepFailed("verwerking", exc, resolution.undone, resolution.left, repair=True) from exc
        return False

    @staticmethod
    def _check_fence(cause: BaseException | None = None) -> None:
        """A message whose claim recovery took over from this process (its lease ran out while it was paused)
        stops here with a fault saying so: its claim and journal are another process's now, nothing is released or
        undone by this one, and no answer is stored."""
        message_journal = JOURNAL.get()
        if isinstance(message_journal, MessageJournal) and message_journal.fenced:
            raise Claim._took_over() from cause

    @staticmethod
    def _took_over() -> ProcessingError:
        return ProcessingError(
            "De verwerking van dit bericht is overgenomen door herstel",
            "Deze verwerking duurde langer dan de lease van het proces; een ander proces heeft het bericht "
            "overgenomen en herstelt het. Stuur het bericht opnieuw (zelfde referentienummer) voor de uitkomst.",
            plek="server", reason="recovery-took-over",
        )

    async def _holder_gone(self, key: tuple[str, str], owner: str | None, journal: Journal | None) -> bool:
        """Whether the process that holds this pending claim is known to be gone (recovery/journal.py). The claim
        names its holder; one claimed without (before migration 12) is looked up in the journal."""
        if journal is None:
            return False
        if owner is not None:
            return await journal.is_gone(owner)
        message = await journal.message(key)
        return message is not None and message.state == "active" and await journal.is_gone(message.owner)

    @staticmethod
    def _completed(x: Exchange) -> bool:
        """Answer the message with its acknowledgement: its writes are all in ZGW (the rule of recovery/resolve.py)."""
        assert x.operation is not None
        if x.operation.response_kind not in ("Bv02", "Bv03"):
            return False
        x.answer = bevestiging(x.operation.response_kind, x.context.parties)
        x.warnings.append("het bericht bleek na een storing toch volledig verwerkt")
        return True

    async def _claim(self, key: tuple[str, str], op: Operation, body_digest: str, ref: str,
                     journal: Journal | None) -> tuple[bytes | None, bool]:
        """(None, earlier) when this message is new (and now claimed; ``earlier``: it has a step journal from an
        earlier copy); (the stored answer, False) when it is a resend."""
        settings, store = self.env.settings, self.env.store
        stale = timedelta(seconds=settings.idempotency_stale_seconds)
        deadline = time.monotonic() + settings.idempotency_wait_seconds
        owner = journal.owner.id if journal is not None else None
        while True:
            claim = await store.claim_message(*key, body_digest, op.name, stale_after=stale, owner=owner)
            if claim.state == "new":
                return None, claim.journal
            if claim.state == "done":
                return claim.answer, False
            if claim.state == "conflict":
                raise StuurgegevensError(
                    "StUF016",
                    "Combinatie zender en referentienummer niet uniek",
                    f"Referentienummer {ref!r} van zender {key[0].partition('|')[0]!r} is al gebruikt voor een ander "
                    "bericht; geef elk nieuw bericht een nieuw referentienummer.",
                    reason="referentienummer-reused",
                )
            if await self._holder_gone(key, claim.owner, journal):  # it died: take the claim over now
                claim = await store.claim_message(*key, body_digest, op.name, stale_after=timedelta(0), owner=owner)
                if claim.state == "new":
                    return None, claim.journal
                continue
            if time.monotonic() >= deadline:
                raise self._in_progress(ref)
            await asyncio.sleep(0.05)

    @staticmethod
    def _in_progress(ref: str) -> ProcessingError:
        return ProcessingError(
            "Het bericht wordt al verwerkt",
            f"Een eerder exemplaar van {ref!r} is nog in behandeling; stuur het later opnieuw.",
            plek="server", reason="message-in-progress",
        )

    @staticmethod
    def _replayed(answer: etree._Element, x: Exchange) -> etree._Element:
        """A stored answer, with the documents it carried streamed in again from the versions it carried then."""
        zgw = x.env.zgw
        marked = False
        for element in answer.iter("*"):
            mark = element.get(_REPLAY)
            if mark is None:
                continue
            del element.attrib[_REPLAY]
            if zgw is None:
                continue
            marked = True
            size, _, url = mark.partition(" ")
            source = download_source(zgw, url, int(size))
            x.context.stream_out(element, source.open, source.size, replay=url)
        if marked:
            _drop_replay_namespace(answer)
        return answer


def idempotency_key(op: Operation, sg: Stuurgegevens) -> tuple[str, str] | None:
    """(zender, referentienummer) of a message that changes something; questions and acks need none."""
    if op.berichtcode not in _CHANGING or not sg.referentienummer or sg.zender is None:
        return None
    z = sg.zender
    return f"{z.organisatie or ''}/{z.applicatie or ''}/{z.administratie or ''}", sg.referentienummer


#: Messages with more elements than this are digested in a worker thread (issue 18, finding 1): the walk is linear,
#: but a message of 100,000 elements (the limit) takes some 100 ms, which the event loop must not wait for.
DIGEST_INLINE_ELEMENTS = 2000


async def digest_off_loop(message: etree._Element, contents: Sequence[Content] = ()) -> str:
    """``digest``, in a worker thread when the message is large (the tree is this message's alone: no other task
    touches it meanwhile), so that other clients' messages go on."""
    if not _larger_than(message, DIGEST_INLINE_ELEMENTS):
        return digest(message, contents)
    return await asyncio.to_thread(digest, message, contents)


def _larger_than(message: etree._Element, elements: int) -> bool:
    """Whether the message has more than ``elements`` nodes: stops counting there (bounded cost)."""
    for count, _ in enumerate(message.iter(), start=1):
        if count > elements:
            return True
    return False


def digest(message: etree._Element, contents: Sequence[Content] = ()) -> str:
    """What makes a resend "the same message": its canonical form, without the stuurgegevens' tijdstipBericht
    (clients that resend often stamp a new time on the same message), and the sha256 of each document spooled out
    of it.

    The canonical form (``canonical_form``) is that of the StUF message element alone, by namespace URI rather than
    prefix: it carries no namespace declaration (the SOAP envelope's among them) and no prefix the client chose, so a
    resend over another SOAP version, or written with other prefixes or default namespaces, is the same message."""
    body_digest = hashlib.sha256(canonical_form(message).encode("utf-8"))
    for content in contents:
        body_digest.update(f"\ninhoud:{content.sha256}".encode("ascii"))
    return body_digest.hexdigest()


def canonical_form(message: etree._Element) -> str:
    """The message as a string that depends on its content only: every element and attribute by its namespace URI
    and local name (attributes sorted), prefixed QNames in ``xsi:type`` values resolved to their URI (left as written
    when their prefix is not declared), text and tails as they are (escaped), comments and processing instructions
    left out, and the text of the stuurgegevens' tijdstipBericht left out. One walk of the tree: linear in its size
    (C14N 2.0 with rewritten prefixes took about 1 ms for a creeerZaak)."""
    out: list[str] = []
    _canonical(message, out)
    return "".join(out)


def _canonical(element: etree._Element, out: list[str]) -> None:
    out.append("<" + element.tag)
    for name, value in sorted((str(key), str(item)) for key, item in element.attrib.items()):
        if name == _XSI_TYPE and ":" in value:
            prefix, _, local = value.partition(":")
            uri = element.nsmap.get(prefix)
            if uri is not None:
                value = f"{{{uri}}}{local}"
        out.append(f" {name}={_escaped(value)}")
    out.append(">")
    if element.text and not (element.tag == _TIJDSTIP_TAG and _in_stuurgegevens(element)):
        out.append(_escaped(element.text))
    for child in element:
        if isinstance(child.tag, str):
            _canonical(child, out)
        if child.tail:
            out.append(_escaped(child.tail))
    out.append("</>")


def _in_stuurgegevens(element: etree._Element) -> bool:
    parent = element.getparent()
    return parent is not None and isinstance(parent.tag, str) and parent.tag.endswith("}stuurgegevens")


def _escaped(text: str) -> str:
    return '"' + text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;") + '"'


def for_storage(answer: etree._Element, outbound: Sequence[Outbound]) -> bytes:
    """The answer as stored for a resend: each streamed document element marked with its size and download URL."""
    marked = [out for out in outbound if out.replay and out.size is not None]
    for out in marked:
        out.element.set(_REPLAY, f"{out.size} {out.replay}")
    try:
        return etree.tostring(answer)
    finally:
        for out in marked:
            del out.element.attrib[_REPLAY]
        if marked:  # setting the mark declared its namespace on the element: the answer sent must not carry it
            _drop_replay_namespace(answer)


def _drop_replay_namespace(answer: etree._Element) -> None:
    """Remove the mark's namespace declaration, and only that one (other declarations may be used in values)."""
    keep = {prefix for el in answer.iter("*") for prefix, uri in el.nsmap.items() if prefix and uri != _REPLAY_NS}
    etree.cleanup_namespaces(answer, keep_ns_prefixes=sorted(keep))
