"""Each package says what it offers: ``__all__`` lists exactly its public names (in the style of httpx's
``test_exported_members``). A name added to a package without being listed, or listed without existing, fails here,
so the surface other code may use stays explicit."""

from __future__ import annotations

import importlib
import pkgutil
import types

import pytest

import stuf_bridge


def packages() -> list[str]:
    found = ["stuf_bridge"]
    for info in pkgutil.walk_packages(stuf_bridge.__path__, "stuf_bridge."):
        if info.ispkg:
            found.append(info.name)
    return sorted(found)


def test_every_package_is_checked() -> None:
    assert {"stuf_bridge.pipeline", "stuf_bridge.zgw", "stuf_bridge.operations", "stuf_bridge.soap"} <= set(packages())


@pytest.mark.parametrize("name", packages())
def test_all_lists_exactly_the_public_names(name: str) -> None:
    package = importlib.import_module(name)
    exported = getattr(package, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=str.casefold), f"{name}.__all__ is not sorted"
    missing = [member for member in exported if not hasattr(package, member)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    public = {
        member for member, value in vars(package).items()
        if not member.startswith("_") and not isinstance(value, types.ModuleType) and member != "annotations"
    }
    assert public == set(exported), f"{name}: public but not in __all__: {sorted(public - set(exported))}; " \
                                    f"in __all__ but not public: {sorted(set(exported) - public)}"
