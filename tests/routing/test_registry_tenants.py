"""The zaak registry per tenant: the same zaak (and document) number in two municipalities is pinned (linked) once in
each, and neither sees the other's pin nor the gateway's own."""

from __future__ import annotations

from pathlib import Path

from stuf_bridge.routing.registry import ZaakRegistry
from stuf_bridge.store import ZaakRoute, create_store


async def test_each_tenant_pins_and_links_its_own_zaken(tmp_path: Path) -> None:
    async with create_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        a, b, own = (ZaakRegistry(store, tenant=t) for t in ("a", "b", None))
        pinned = await a.pin(ZaakRoute("Z1", "B1026", "replicate", "legacy", "rules[0]"))
        assert (pinned.identificatie, pinned.mode) == ("Z1", "replicate")
        assert await b.get("Z1") is None and await own.get("Z1") is None
        await b.pin(ZaakRoute("Z1", "B1026", "translate", "zgw", "default"))
        await a.link_document("D1", "Z1")
        # fresh registries (another process, nothing cached): each reads its own rows from the store
        a, b, own = (ZaakRegistry(store, tenant=t) for t in ("a", "b", None))
        found_a, found_b = await a.get("Z1"), await b.get("Z1")
        assert found_a is not None and found_b is not None
        assert (found_a.identificatie, found_a.mode, found_a.primary) == ("Z1", "replicate", "legacy")
        assert (found_b.identificatie, found_b.mode, found_b.primary) == ("Z1", "translate", "zgw")
        assert await a.zaak_of_document("D1") == "Z1"
        assert await b.zaak_of_document("D1") is None and await own.zaak_of_document("D1") is None
        # the first pin stays, per tenant
        again = await ZaakRegistry(store, tenant="a").pin(ZaakRoute("Z1", "B1026", "proxy", "legacy", "x"))
        assert (again.identificatie, again.mode) == ("Z1", "replicate")
