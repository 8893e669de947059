"""The undo log: failed steps undo what was created before, newest first, and the fault names the step."""

from __future__ import annotations

import pytest

from stuf_bridge.errors import StepFailed
from stuf_bridge.faults import to_fault
from stuf_bridge.operations.compensation import UndoLog
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
    assert "POST rollen (initiator)" in fault.details and "teruggedraaid" in fault.details


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
