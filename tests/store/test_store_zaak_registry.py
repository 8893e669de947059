"""The zaak registry's tables: a zaak's pinned route (the first writer wins) and a document's zaak — on a SQLite
file, an in-memory SQLite database and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from stuf_bridge.store import Store, ZaakRoute


@pytest.fixture
def zaak() -> Callable[[], str]:
    return lambda: f"ZK-{uuid.uuid4().hex[:12]}"


async def test_a_zaak_keeps_its_first_route(store_of_each_kind: Store, zaak: Callable[[], str]) -> None:
    name = zaak()
    assert await store_of_each_kind.zaak_route(name) is None
    first = await store_of_each_kind.pin_zaak_route(ZaakRoute(name, "B1026", "proxy", "legacy", "rules[0]"))
    assert (first.identificatie, first.zaaktype, first.mode, first.primary, first.rule) == (
        name, "B1026", "proxy", "legacy", "rules[0]")
    assert first.created_at is not None and first.created_at.tzinfo is not None
    later = await store_of_each_kind.pin_zaak_route(ZaakRoute(name, "B2000", "translate", "zgw", "default"))
    assert later == first  # the rules changed; the zaak did not move
    assert await store_of_each_kind.zaak_route(name) == first


async def test_a_zaak_without_zaaktype_is_pinned_too(store_of_each_kind: Store, zaak: Callable[[], str]) -> None:
    name = zaak()
    await store_of_each_kind.pin_zaak_route(ZaakRoute(name, None, "replicate", "zgw", "rules[3]"))
    pinned = await store_of_each_kind.zaak_route(name)
    assert pinned is not None and (pinned.zaaktype, pinned.mode, pinned.primary) == (None, "replicate", "zgw")


async def test_concurrent_pins_agree_on_one_route(store_of_each_kind: Store, zaak: Callable[[], str]) -> None:
    name = zaak()
    routes = [ZaakRoute(name, f"T{i}", "proxy" if i % 2 else "translate", "legacy" if i % 2 else "zgw", f"rules[{i}]")
              for i in range(8)]
    results = await asyncio.gather(*(store_of_each_kind.pin_zaak_route(route) for route in routes))
    assert len({(r.zaaktype, r.mode, r.primary, r.rule) for r in results}) == 1
    assert await store_of_each_kind.zaak_route(name) == results[0]


async def test_a_document_is_linked_to_its_first_zaak(store_of_each_kind: Store, zaak: Callable[[], str]) -> None:
    document, one, other = f"D-{uuid.uuid4().hex[:12]}", zaak(), zaak()
    assert await store_of_each_kind.document_zaak(document) is None
    await store_of_each_kind.link_document(document, one)
    await store_of_each_kind.link_document(document, other)
    assert await store_of_each_kind.document_zaak(document) == one
