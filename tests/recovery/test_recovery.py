"""The journal's bookkeeping: a claim held by a process that is gone is taken over at once; the sweep and
``stuf-bridge recover`` resolve what a gone process left; faults name what is left and how it is repaired."""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from stuf_bridge.cli import main
from stuf_bridge.recovery.journal import Busy, Journal, Owner
from stuf_bridge.recovery.service import journal_for, sweep
from stuf_bridge.settings import Settings
from stuf_bridge.stuf.validation import Schemas

from ..operations.messages import creeer_zaak
from ..support.faults import stuf_fault
from .faults import SCENARIOS, snapshot
from .test_fault_matrix import berichtcode, rig_settings, running_rig


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


async def _leave_half_a_zaak(rig: object, settings: Settings, identificatie: str, ref: str,
                             zender: str = "0363/OpenFormulieren/") -> Journal:
    """What a gateway process killed after ``POST zaken`` leaves: a pending claim, its journal (the zaak's POST
    done, the rol's intent written) under an owner whose pid has ended, and the bare zaak in ZGW."""
    from stuf_bridge.pipeline.claim import digest

    store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
    gone = Owner()
    gone.pid = _dead_pid()
    dead = Journal(store, gone)
    await dead.register()
    body, _ = creeer_zaak(identificatie=identificatie, referentienummer=ref)
    zgw = rig.zgw  # type: ignore[attr-defined]
    zaaktype = await zgw.catalogue.zaaktype("MELDING-OR")
    zaak = await zgw.zaken.create("zaken", {
        "identificatie": identificatie, "bronorganisatie": settings.default_rsin, "zaaktype": zaaktype["url"],
        "verantwoordelijkeOrganisatie": settings.default_rsin,
        "startdatum": "2024-11-05", "omschrijving": "half"})
    key = (zender, ref)
    from lxml import etree

    message = etree.fromstring(body).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    await store.claim_message(*key, digest(message), "creeerZaak_Lk01", stale_after=dt.timedelta(hours=1),
                              owner=gone.id)
    await dead.begin(key, "creeerZaak_Lk01")
    writes = dead.for_message(key, "creeerZaak_Lk01", zgw)
    first = await writes.before("POST", zgw.zaken.url("zaken"), b'{"identificatie": "%s"}' % identificatie.encode())
    await writes.after(first, "done", b'{"url": "%s"}' % zaak["url"].encode())
    await writes.before("POST", zgw.zaken.url("rollen"), b'{"zaak": "%s"}' % zaak["url"].encode())
    return dead


@pytest.fixture
def fast_settings(make_settings: Callable[..., Settings]) -> Settings:
    return rig_settings(make_settings)


async def test_resend_takes_over_the_claim_of_a_gone_process_and_repairs(
    fast_settings: Settings, schemas: Schemas
) -> None:
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(1, "g")
    async with running_rig(fast_settings, schemas) as rig:
        await _leave_half_a_zaak(rig, fast_settings, r.zaak, r.ref)
        assert (await snapshot(rig.zgw, scenario, r))["rollen"] == []  # half a zaak
        started = dt.datetime.now(dt.UTC)
        response = await rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref))
        seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
        assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
        assert seconds < fast_settings.idempotency_wait_seconds / 2  # not waited for: its process is gone
        found = await snapshot(rig.zgw, scenario, r)
    assert found["zaken"] == 1 and found["rollen"] == [("Initiator", "999993653", "Visser")]
    assert found["statussen"] == ["Ontvangen"]


async def test_sweep_resolves_what_a_gone_process_left(fast_settings: Settings, schemas: Schemas) -> None:
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(2, "g")
    async with running_rig(fast_settings, schemas) as rig:
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        await _leave_half_a_zaak(rig, fast_settings, r.zaak, r.ref)
        journal = journal_for(store)
        swept = await sweep(store, rig.zgw, journal, settle_seconds=0.0)
        assert [item.resolution.outcome for item in swept if item.resolution] == ["clean"]
        assert (await snapshot(rig.zgw, scenario, r))["zaken"] == 0  # the bare zaak is gone
        assert await journal.messages() == []
        # and the claim is free: the resend is processed anew, not answered "in progress"
        response = await rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref))
        assert berichtcode(response) == "Bv03", response.text
        assert (await snapshot(rig.zgw, scenario, r))["rollen"] == [("Initiator", "999993653", "Visser")]


async def test_one_piece_of_work_per_message_in_a_process(fast_settings: Settings, schemas: Schemas) -> None:
    """Within one process a resend and the sweep act under the same owner, so the claim cannot keep them apart: a
    gateway starting after a crash swept a message while its client's resend repaired it too, settled the resend's
    claim, and the resend answered 'recovery-took-over'. The journal's per-message work lock orders them: the sweep
    leaves a message this process is working on alone, and a resend waits while the sweep (or the outbox) recovers
    it."""
    scenario = SCENARIOS["creeerZaak"]
    async with running_rig(fast_settings, schemas) as rig:
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        journal = journal_for(store)
        r = scenario.round(20, "g")
        key = ("0363/OpenFormulieren/", r.ref)
        dead = await _leave_half_a_zaak(rig, fast_settings, r.zaak, r.ref)
        # as a process stopping at the end of its grace period leaves it: unfinished, its claim released
        await dead.set_message(key, "unfinished")
        await store.release_message(*key)
        async with journal.working(key):  # this process works on it (as a resend in the pipeline would)
            assert journal.working_on(key)
            assert await sweep(store, rig.zgw, journal, settle_seconds=0.0) == []  # left alone
            resend = asyncio.ensure_future(rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref)))
            await asyncio.sleep(0.5)
            assert not resend.done()  # waits until the work in hand is done
            message = await journal.message(key)
            assert message is not None and message.state == "unfinished"  # nobody touched it meanwhile
        response = await resend
        assert response.status_code == 200 and berichtcode(response) == "Bv03", response.text
        assert not journal.working_on(key)
        found = await snapshot(rig.zgw, scenario, r)
        assert found["zaken"] == 1 and found["statussen"] == ["Ontvangen"], found

        # a second copy waits at most idempotency_wait_seconds, then hears that the message is in progress
        async with journal.working(("0363/OpenFormulieren/", "rec-held")):
            with pytest.raises(Busy):
                async with journal.working(("0363/OpenFormulieren/", "rec-held"), wait=0.05):
                    pass


async def test_fault_names_what_is_left_and_the_resend_repairs(fast_settings: Settings, schemas: Schemas) -> None:
    """The backend gone from the rol on: the zaak cannot be deleted; the fault says so and what repairs it."""
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(3, "g")
    async with running_rig(fast_settings, schemas) as rig:
        rig.proxy.arm("down", 2)
        first = await rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref))
        fault = stuf_fault(first)
        assert "nog over in ZGW" in fault.details and "POST zaken" in fault.details
        assert "opnieuw sturen" in fault.details and "stuf-bridge recover" in fault.details
        await rig.proxy.restore()
        response = await rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref))
        assert berichtcode(response) == "Bv03", response.text


def test_recover_command_lists_and_resolves(make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str], schemas: Schemas) -> None:
    """``stuf-bridge recover list|run`` on the store and embedded backend of a stopped gateway."""
    import asyncio

    settings = fast_settings_for(make_settings)
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(4, "g")

    async def leave() -> None:
        async with running_rig(settings, schemas) as rig:
            await _leave_half_a_zaak(rig, settings, r.zaak, r.ref)

    asyncio.run(leave())
    data = ["--data-dir", str(settings.data_dir)]
    assert main(["recover", "list", *data]) == 0
    listed = capsys.readouterr().out
    assert "creeerZaak_Lk01" in listed and r.ref in listed and "gone" in listed
    monkeypatch.setenv("STUF_BRIDGE_RECOVERY", '{"settle_seconds": 0}')
    assert main(["recover", "run", *data]) == 0
    ran = capsys.readouterr().out
    assert "uitkomst: clean" in ran and "1 message(s) resolved, 0 with something left" in ran
    assert main(["recover", "list", *data]) == 0
    assert "0 message(s) in the journal" in capsys.readouterr().out


def test_recover_forget_after_a_repair_by_hand(make_settings: Callable[..., Settings],
                                               capsys: pytest.CaptureFixture[str], schemas: Schemas) -> None:
    """What recovery cannot resolve an operator repairs by hand, then ``recover forget``s: the message's journal and
    pending claim go, and the client's resend is processed anew (Bv03, one complete zaak). A message that is not
    in the journal, held by a running gateway, or found complete (its resend is answered Bv03), is refused."""
    import asyncio

    settings = fast_settings_for(make_settings)
    scenario = SCENARIOS["creeerZaak"]
    r = scenario.round(5, "g")
    data = ["--data-dir", str(settings.data_dir)]

    async def leave() -> None:
        async with running_rig(settings, schemas) as rig:
            journal = await _leave_half_a_zaak(rig, settings, r.zaak, r.ref)
            # held by a running process: refused without --all
            live = Journal(journal.store)
            await live.register()
            key = ("0363/OpenFormulieren/", r.ref)
            await live.take(key, journal.owner.id)
            assert await asyncio.to_thread(main, ["recover", "forget", key[0], r.ref, *data]) == 1
            assert "held by a running gateway" in capsys.readouterr().err
            # a message found complete is not forgotten: its resend would run it again
            await live.set_message(key, "completed")
            assert await asyncio.to_thread(main, ["recover", "forget", key[0], r.ref, "--all", *data]) == 1
            assert "is complete in ZGW" in capsys.readouterr().err
            await live.set_message(key, "unfinished")
            # the operator deletes the half zaak by hand
            [half] = await rig.zgw.zaken.list("zaken", {"identificatie": r.zaak})
            await rig.zgw.zaken.delete(half["url"])
            await live.unregister()  # that process ended: its message may be forgotten now

    asyncio.run(leave())
    assert main(["recover", "forget", "0363/OpenFormulieren/", "no-such-ref", *data]) == 1
    assert "no message 'no-such-ref'" in capsys.readouterr().err
    assert main(["recover", "forget", "0363/OpenFormulieren/", r.ref, *data]) == 0
    out = capsys.readouterr().out
    assert f"forgotten: creeerZaak_Lk01 0363/OpenFormulieren/ / {r.ref}" in out and "POST zaken" in out, out
    assert main(["recover", "list", *data]) == 0
    assert "0 message(s) in the journal" in capsys.readouterr().out

    async def resend() -> None:
        async with running_rig(settings, schemas) as rig:
            response = await rig.send(creeer_zaak(identificatie=r.zaak, referentienummer=r.ref))
            assert berichtcode(response) == "Bv03", response.text
            found = await snapshot(rig.zgw, scenario, r)
            assert found["zaken"] == 1 and found["statussen"] == ["Ontvangen"], found

    asyncio.run(resend())


def fast_settings_for(make_settings: Callable[..., Settings]) -> Settings:
    return rig_settings(make_settings)


async def test_a_process_whose_message_was_taken_over_stops_with_a_fault(
    fast_settings: Settings, schemas: Schemas
) -> None:
    """Fencing end to end: while a gateway processes an updateZaak, another process takes the message over after
    its first write (as the sweep does when this process's lease ran out during a pause). The gateway's next
    journal write finds the claim no longer its own: the writes after it are not sent, nothing is undone by it, its
    claim is left to the other process, and the sender gets a fault saying recovery took over."""
    scenario = SCENARIOS["updateZaak"]
    r = scenario.round(1, "f")
    async with running_rig(fast_settings, schemas) as rig:
        for message in scenario.setup(r):
            assert berichtcode(await rig.send(message)) == "Bv03"
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        gateway_journal = journal_for(store)
        other = Journal(store)
        key = ("0363/OpenFormulieren/", r.ref)
        inner = rig.proxy.handle_async_request
        sent: list[str] = []

        async def take_over_after_the_first_write(request: Any) -> Any:
            response = await inner(request)
            if request.method != "GET":
                sent.append(f"{request.method} {request.url.path.rsplit('/', 1)[-1]}")
                if len(sent) == 1:
                    assert await other.take(key, gateway_journal.owner.id)
            return response

        rig.proxy.handle_async_request = take_over_after_the_first_write  # type: ignore[method-assign]
        response = await rig.send(scenario.message(r))
        rig.proxy.handle_async_request = inner  # type: ignore[method-assign]
        found = await snapshot(rig.zgw, scenario, r)
        claim = await store.statement("test", "SELECT state, owner FROM messages WHERE zender = :z AND "
                                      "referentienummer = :r", {"z": key[0], "r": key[1]})
        held = await other.message(key)
    fault = stuf_fault(response)
    assert fault.reason == "recovery-took-over" and "overgenomen door herstel" in fault.omschrijving, fault
    assert sent == [sent[0]] and sent[0].startswith("PATCH"), sent  # nothing after the take-over was sent
    assert found["omschrijving"] == "Gewijzigd" and found["rollen"] == [("Initiator", "999993653", "Visser")]
    assert tuple(claim) == ("pending", other.owner.id)  # not released: the other process's now
    assert held is not None and held.owner == other.owner.id


async def test_a_process_taken_over_after_its_last_write_stores_no_answer(
    fast_settings: Settings, schemas: Schemas
) -> None:
    """Fencing at the end: the message is taken over after the gateway's last ZGW write, before it stores its
    answer (a pause there). Storing the answer is fenced as the journal writes are: nothing is stored, the claim
    stays the other process's (pending), and the sender gets the recovery-took-over fault, not Bv03."""
    scenario = SCENARIOS["updateZaak"]
    r = scenario.round(2, "f")
    async with running_rig(fast_settings, schemas) as rig:
        for message in scenario.setup(r):
            assert berichtcode(await rig.send(message)) == "Bv03"
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        gateway_journal = journal_for(store)
        other = Journal(store)
        key = ("0363/OpenFormulieren/", r.ref)
        complete = store.complete_message
        taken: list[bool] = []

        async def taken_over_first(*args: Any, **kwargs: Any) -> Any:
            if args[:2] == key:
                taken.append(await other.take(key, gateway_journal.owner.id))
            return await complete(*args, **kwargs)

        store.complete_message = taken_over_first
        try:
            response = await rig.send(scenario.message(r))
        finally:
            store.complete_message = complete
        found = await snapshot(rig.zgw, scenario, r)
        claim = await store.statement("test", "SELECT state, owner, answer FROM messages WHERE zender = :z AND "
                                      "referentienummer = :r", {"z": key[0], "r": key[1]})
    fault = stuf_fault(response)
    assert taken == [True]
    assert fault.reason == "recovery-took-over", fault
    assert found["omschrijving"] == "Gewijzigd"  # its writes were all made (the other process completes it)
    assert tuple(claim) == ("pending", other.owner.id, None)  # no answer stored, the claim the other's


async def test_the_sweep_resolves_a_tenants_message_in_that_tenants_backend(
    fast_settings: Settings, schemas: Schemas
) -> None:
    """A tenant's message is journalled under its key (``|tenant=NAME``); the sweep resolves it with that tenant's
    ZGW clients (here the rig's backend), not the gateway's own (here one that answers nothing), and leaves the
    message of a tenant that is not configured alone (not taken, not touched)."""
    from stuf_bridge.recovery.service import tenant_of
    from stuf_bridge.zgw import ZgwClients

    scenario = SCENARIOS["creeerZaak"]
    mine, unknown = scenario.round(3, "t"), scenario.round(4, "t")
    async with running_rig(fast_settings, schemas) as rig:
        store = rig.client._transport.app.state.store  # type: ignore[attr-defined]
        await _leave_half_a_zaak(rig, fast_settings, mine.zaak, mine.ref, "0363/OpenFormulieren/|tenant=west")
        await _leave_half_a_zaak(rig, fast_settings, unknown.zaak, unknown.ref, "0363/OpenFormulieren/|tenant=oost")
        journal = journal_for(store)
        own = ZgwClients.from_settings(fast_settings.model_copy(update={"zgw_url": "http://127.0.0.1:9"}))
        async with own:
            swept = await sweep(store, own, journal, settle_seconds=0.0, tenants={"west": rig.zgw})
        assert [(item.message.referentienummer, item.resolution.outcome) for item in swept if item.resolution] == [
            (mine.ref, "clean")]
        assert (await snapshot(rig.zgw, scenario, mine))["zaken"] == 0  # undone in its tenant's backend
        assert (await snapshot(rig.zgw, scenario, unknown))["zaken"] == 1  # left alone
        [left] = await journal.messages()
        assert left.referentienummer == unknown.ref and left.owner != journal.owner.id  # not taken
    assert (tenant_of("0363/OpenFormulieren/|tenant=west"), tenant_of("0363/OpenFormulieren/")) == ("west", None)
