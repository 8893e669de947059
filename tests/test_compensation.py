"""The undo log: failed steps undo what was created before, newest first, and the fault names the step."""

from __future__ import annotations

import pytest

from stuf_bridge.errors import StepFailed
from stuf_bridge.faults import to_fault
from stuf_bridge.operations.compensation import UndoLog, delete_created, patch_back, post_back, put_back
from stuf_bridge.zgw import ZgwUnavailable, ZgwValidationError


async def _ok(value: str) -> str:
    return value


async def _fail(error: Exception) -> str:
    raise error


def _recorder() -> tuple[list[str], object]:
    undone: list[str] = []

    async def undo(result: str) -> None:
        undone.append(result)

    return undone, undo


async def test_success_undoes_nothing() -> None:
    undone, undo = _recorder()
    async with UndoLog() as log:
        await log.step("POST zaken", _ok("zaak"), undo=undo)
    assert undone == []
    assert log.done == ["POST zaken"]


async def test_failure_undoes_in_reverse_and_names_the_step() -> None:
    undone, undo = _recorder()
    with pytest.raises(StepFailed) as caught:
        async with UndoLog() as log:
            await log.step("POST zaken", _ok("zaak"), undo=undo)
            await log.step("POST zaakobjecten", _ok("zaakobject"), undo=undo)
            await log.step("POST rollen (initiator)", _fail(ZgwValidationError("POST /rollen → 400 required")))
    assert undone == ["zaakobject", "zaak"]
    failed = caught.value
    assert failed.step == "POST rollen (initiator)"
    assert failed.undone == ["ongedaan: POST zaakobjecten", "ongedaan: POST zaken"]
    fault = to_fault(failed)
    assert fault.code_for("Fo03") == "StUF058" and fault.plek == "client"
    assert "POST rollen (initiator)" in fault.details  # the failed step
    assert "ongedaan: POST zaakobjecten, ongedaan: POST zaken" in fault.details  # what was undone, newest first


async def test_concurrent_steps_register_every_success_before_unwinding() -> None:
    undone, undo = _recorder()
    with pytest.raises(StepFailed) as caught:
        async with UndoLog() as log:
            await log.step("POST zaken", _ok("zaak"), undo=undo)
            await log.steps({
                "POST rol a": (_ok("rol a"), undo),
                "POST rol b": (_fail(ZgwUnavailable("connection refused")), undo),
                "POST rol c": (_ok("rol c"), undo),
            })
    assert caught.value.step == "POST rol b"
    assert undone == ["rol c", "rol a", "zaak"]
    assert to_fault(caught.value).code_for("Fo03") == "StUF046"


async def test_a_failing_undo_is_reported_and_the_rest_still_runs() -> None:
    undone, undo = _recorder()

    async def broken(result: str) -> None:
        raise ZgwUnavailable("gone")

    with pytest.raises(StepFailed) as caught:
        async with UndoLog() as log:
            await log.step("POST zaken", _ok("zaak"), undo=undo)
            await log.step("POST status", _ok("status"), undo=broken)
            await log.step("POST rollen", _fail(RuntimeError("boom")))
    assert undone == ["zaak"]
    assert caught.value.not_undone == ["ongedaan: POST status"]
    assert "NIET teruggedraaid" in caught.value.summary()
    assert to_fault(caught.value).plek == "server"  # an unexpected cause is the gateway's problem


class _Client:
    """Records what the undo actions ask of a ZGW API client."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def delete(self, url: str) -> None:
        self.calls.append(("DELETE", url))

    async def patch(self, url: str, body: dict) -> dict:
        self.calls.append(("PATCH", url, repr(body)))
        return body

    async def update(self, url: str, body: dict) -> dict:
        self.calls.append(("PUT", url, repr(body)))
        return body

    async def create(self, resource: str, body: dict) -> dict:
        self.calls.append(("POST", resource, repr(body)))
        return body


async def test_the_usual_undo_actions_reverse_their_step() -> None:
    client = _Client()
    with pytest.raises(StepFailed):
        async with UndoLog() as log:
            await log.step("POST zaken", _ok({"url": "z/1"}), undo=delete_created(client))
            await log.step("PATCH zaken", _ok({}), undo=patch_back(client, "z/1", {"omschrijving": "oud"}))
            await log.step("PUT zaakobjecten", _ok({}), undo=put_back(client, "zo/1", {"objectType": "adres"}))
            await log.step("DELETE rollen", _ok(None), undo=post_back(client, "rollen", {"roltype": "rt/1"}))
            await log.step("POST statussen", _fail(ZgwUnavailable("gone")))
    assert client.calls == [
        ("POST", "rollen", "{'roltype': 'rt/1'}"),
        ("PUT", "zo/1", "{'objectType': 'adres'}"),
        ("PATCH", "z/1", "{'omschrijving': 'oud'}"),
        ("DELETE", "z/1"),
    ]
