"""The named values beside the sequences (``Store.set_value``/``get_value``/``delete_value``): the gateway's record
of the checkouts it handed out (operations/checkouts.py), on every kind of store."""

from __future__ import annotations

from stuf_bridge.store import Store


async def test_set_get_replace_and_delete_a_named_value(store_of_each_kind: Store) -> None:
    store = store_of_each_kind
    assert await store.get_value("checkout:abc") is None
    await store.set_value("checkout:abc", 2**59 + 7)
    assert await store.get_value("checkout:abc") == 2**59 + 7
    await store.set_value("checkout:abc", 42)  # a new checkout of the same document replaces the record
    assert await store.get_value("checkout:abc") == 42
    await store.delete_value("checkout:abc")
    assert await store.get_value("checkout:abc") is None
    await store.delete_value("checkout:abc")  # deleting what is not there is no error


async def test_a_named_value_does_not_touch_a_sequence(store_of_each_kind: Store) -> None:
    store = store_of_each_kind
    assert await store.next_value("identificatie:zaak") == 1
    await store.set_value("checkout:x", 99)
    assert await store.next_value("identificatie:zaak") == 2
