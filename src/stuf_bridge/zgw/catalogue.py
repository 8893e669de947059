"""The catalogue cache: zaaktypen and their statustypen, roltypen, resultaattypen, informatieobjecttypen and
besluittypen, read from the Catalogi API and kept for ``zgw_catalogue_ttl`` seconds.

What is cached are the lists as the API returns them; every look-up is computed from those, so a miss costs no
extra request either. Concurrent identical reads share one in-flight request (single-flight): a burst of creeerZaak
messages for one zaaktype makes one request per catalogue resource. Look-ups follow MAPPING §2.4; a miss or an
ambiguous match is a :class:`CatalogueLookupError` that names what was searched and what exists.

Results are shared by every caller: treat them as read-only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from ..errors import StufBridgeError, clip
from .errors import SUMMARY_MAX

if TYPE_CHECKING:
    from .client import ZgwApiClient

JSON = dict[str, Any]
T = TypeVar("T")

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RESULTAATTYPE_OMSCHRIJVING_MAX = 20  # what some ZGW back-ends keep (OZB truncates to it)


def today_amsterdam() -> date:
    return datetime.now(AMSTERDAM).date()


# --- errors ----------------------------------------------------------------------------------------------------


class CatalogueLookupError(StufBridgeError):
    """A catalogue look-up found nothing, or more than one candidate.

    ``kind`` is what was looked up (``zaaktype``, ``statustype``, …), ``searched`` the criteria, ``available`` the
    candidates that exist (short descriptions) and ``zaaktype`` the identificatie of the zaaktype searched in."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        searched: dict[str, Any],
        available: Sequence[str] = (),
        zaaktype: str | None = None,
    ):
        self.message = clip(message, SUMMARY_MAX) or ""
        super().__init__(self.message)
        self.kind = kind
        self.searched = searched
        self.available = tuple(available)
        self.zaaktype = zaaktype

    def __str__(self) -> str:
        return self.message


class CatalogueNotFound(CatalogueLookupError):
    """Nothing in the catalogue matches."""


class CatalogueAmbiguous(CatalogueLookupError):
    """Several catalogue entries match equally well."""


def _criteria(searched: dict[str, Any]) -> str:
    return " en ".join(f"{key} {value!r}" for key, value in searched.items() if value is not None)


def _not_found(
    kind: str, searched: dict[str, Any], available: Sequence[str], zaaktype: str | None
) -> CatalogueNotFound:
    where = f" bij zaaktype {zaaktype}" if zaaktype else ""
    present = f"; aanwezig: {', '.join(available)}" if available else f"; het zaaktype heeft geen {kind}en"
    return CatalogueNotFound(
        f"geen {kind} met {_criteria(searched)}{where}{present}",
        kind=kind,
        searched=searched,
        available=available,
        zaaktype=zaaktype,
    )


def _ambiguous(kind: str, searched: dict[str, Any], matches: Sequence[str], zaaktype: str | None) -> CatalogueAmbiguous:
    where = f" bij zaaktype {zaaktype}" if zaaktype else ""
    return CatalogueAmbiguous(
        f"meer dan één {kind} met {_criteria(searched)}{where}: {', '.join(matches)}",
        kind=kind,
        searched=searched,
        available=matches,
        zaaktype=zaaktype,
    )


# --- matching --------------------------------------------------------------------------------------------------


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def valid_on(item: JSON, day: date) -> bool:
    """``beginGeldigheid`` ≤ day ≤ ``eindeGeldigheid`` (either may be absent: open)."""
    begin = _parse_date(item.get("beginGeldigheid"))
    end = _parse_date(item.get("eindeGeldigheid"))
    return (begin is None or begin <= day) and (end is None or day <= end)


def _validity(item: JSON) -> str:
    return f"{item.get('beginGeldigheid') or '…'} t/m {item.get('eindeGeldigheid') or '…'}"


def _fold(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def match_text(
    items: Iterable[JSON],
    wanted: str,
    field: str = "omschrijving",
    *,
    prefix: bool = True,
    truncate: int | None = None,
) -> list[JSON]:
    """The items whose ``field`` matches ``wanted`` at the first level that matches anything: exact, then
    case-insensitive (whitespace folded), then — with ``truncate`` — both cut to that length, then — with
    ``prefix`` — the catalogue value starting with ``wanted``."""
    items = list(items)
    levels: list[Callable[[JSON], bool]] = [
        lambda item: item.get(field) == wanted,
        lambda item: _fold(item.get(field)) == _fold(wanted),
    ]
    if truncate is not None:
        levels.append(lambda item: _fold(item.get(field))[:truncate] == _fold(wanted)[:truncate])
    if prefix:
        levels.append(lambda item: bool(_fold(wanted)) and _fold(item.get(field)).startswith(_fold(wanted)))
    for level in levels:
        found = [item for item in items if level(item)]
        if found:
            return found
    return []


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _unique(items: Iterable[JSON]) -> list[JSON]:
    seen: dict[str, JSON] = {}
    for item in items:
        seen.setdefault(str(item.get("url") or id(item)), item)
    return list(seen.values())


# --- the cache -------------------------------------------------------------------------------------------------


class _SingleFlightCache:
    """Values by key for ``ttl`` seconds; concurrent loads of one key share one task. Failures are not cached."""

    def __init__(self, ttl: float, clock: Callable[[], float]):
        self.ttl = ttl
        self._clock = clock
        self._values: dict[Hashable, tuple[float, Any]] = {}
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        entry = self._values.get(key)
        if entry is not None and self._clock() < entry[0]:
            value: T = entry[1]
            return value
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load))
            task.add_done_callback(_consume_exception)
            self._loading[key] = task
        # shield: a caller that is cancelled must not cancel the load the others wait for
        return await asyncio.shield(task)

    async def _load(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        try:
            value = await load()
            self._values[key] = (self._clock() + self.ttl, value)
            return value
        finally:
            self._loading.pop(key, None)

    def seed(self, key: Hashable, value: Any) -> None:
        """Remember a value learnt from another read (a list item is also the resource at its URL)."""
        if key not in self._values:
            self._values[key] = (self._clock() + self.ttl, value)

    def clear(self) -> None:
        self._values.clear()


def _consume_exception(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # mark as retrieved when every waiter was cancelled


class Catalogue:
    """Cached look-ups in the Catalogi API. A ``zaaktype`` argument is a zaaktype dict or its URL."""

    def __init__(
        self,
        catalogi: ZgwApiClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        today: Callable[[], date] = today_amsterdam,
    ):
        self.catalogi = catalogi
        self._cache = _SingleFlightCache(ttl, clock)
        self._today = today

    def clear(self) -> None:
        """Forget everything (e.g. after a catalogue was published)."""
        self._cache.clear()

    # --- raw, cached reads ---

    async def _list(self, path: str, params: dict[str, str]) -> list[JSON]:
        key = (path, tuple(sorted(params.items())))
        return await self._cache.get(key, lambda: self.catalogi.list(path, params))

    async def _get(self, url: str) -> JSON:
        return await self._cache.get(("url", url), lambda: self.catalogi.get(url))

    async def _zaaktype(self, zaaktype: JSON | str) -> JSON:
        return await self._get(zaaktype) if isinstance(zaaktype, str) else zaaktype

    async def _of_zaaktype(self, path: str, zaaktype: JSON) -> list[JSON]:
        url = zaaktype["url"]
        items = await self._list(path, {"zaaktype": url})
        return [item for item in items if item.get("zaaktype") in (None, url)]  # in case a server ignores the filter

    async def _by_urls(
        self, path: str, zaaktype: JSON, urls: AbstractSet[str], omschrijvingen: AbstractSet[str] = frozenset()
    ) -> list[JSON]:
        """The ``path`` resources (informatieobjecttypen, besluittypen) with these URLs or omschrijvingen: from
        the zaaktype's catalogus list (one request for all zaaktypen of that catalogus), the rest by URL."""
        found: list[JSON] = []
        catalogus = zaaktype.get("catalogus")
        if catalogus:
            for item in await self._list(path, {"catalogus": str(catalogus)}):
                if item.get("url") in urls or (omschrijvingen and item.get("omschrijving") in omschrijvingen):
                    found.append(item)
        missing = sorted(urls - {str(item.get("url")) for item in found})
        if missing:
            found.extend(await asyncio.gather(*(self._get(url) for url in missing)))
        return _unique(found)

    # --- zaaktype ---

    async def zaaktypen(self, identificatie: str) -> list[JSON]:
        """The published versions of a zaaktype (all, whatever their validity)."""
        items = await self._list("zaaktypen", {"identificatie": identificatie, "status": "definitief"})
        for item in items:  # a later look-up by URL (a zaak's zaaktype) needs no call of its own
            if item.get("url"):
                self._cache.seed(("url", item["url"]), item)
        return [
            item
            for item in items
            if not item.get("concept") and item.get("identificatie", identificatie) == identificatie
        ]

    async def zaaktype(self, identificatie: str) -> JSON:
        """The published zaaktype with this identificatie that is valid today."""
        versions = await self.zaaktypen(identificatie)
        today = self._today()
        valid = [item for item in versions if valid_on(item, today)]
        searched = {"identificatie": identificatie}
        if len(valid) == 1:
            return valid[0]
        if not valid:
            if versions:
                raise CatalogueNotFound(
                    f"geen zaaktype met identificatie {identificatie!r} dat geldig is op {today.isoformat()}; "
                    f"gepubliceerde versies: {', '.join(_validity(v) for v in versions)}",
                    kind="zaaktype",
                    searched=searched,
                    available=[_validity(v) for v in versions],
                )
            raise CatalogueNotFound(
                f"geen gepubliceerd zaaktype met identificatie {identificatie!r}",
                kind="zaaktype",
                searched=searched,
            )
        raise CatalogueAmbiguous(
            f"meer dan één zaaktype met identificatie {identificatie!r} geldig op {today.isoformat()}: "
            + ", ".join(f"{v.get('url')} ({_validity(v)})" for v in valid),
            kind="zaaktype",
            searched=searched,
            available=[str(v.get("url")) for v in valid],
        )

    async def zaaktype_by_url(self, url: str) -> JSON:
        return await self._get(url)

    # --- statustypen ---

    async def statustypen(self, zaaktype: JSON | str) -> list[JSON]:
        """The statustypen of a zaaktype, by volgnummer."""
        zt = await self._zaaktype(zaaktype)
        items = await self._of_zaaktype("statustypen", zt)
        return sorted(items, key=lambda item: _as_int(item.get("volgnummer")) or 0)

    async def statustype(
        self, zaaktype: JSON | str, *, omschrijving: str | None = None, volgnummer: int | str | None = None
    ) -> JSON:
        """The statustype by omschrijving (exact, case-insensitive, prefix) and/or volgnummer. With both, the
        omschrijving decides and the volgnummer only chooses between equal matches."""
        if not omschrijving and volgnummer in (None, ""):
            raise ValueError("statustype needs an omschrijving or a volgnummer")
        zt = await self._zaaktype(zaaktype)
        items = await self.statustypen(zt)
        number = _as_int(volgnummer)
        searched = {"omschrijving": omschrijving, "volgnummer": number if number is not None else volgnummer}
        available = [f"{item.get('volgnummer')} {item.get('omschrijving')}" for item in items]
        if omschrijving:
            found = match_text(items, omschrijving)
            if len(found) > 1 and number is not None:
                found = [item for item in found if _as_int(item.get("volgnummer")) == number] or found
        else:
            found = [item for item in items if number is not None and _as_int(item.get("volgnummer")) == number]
        return self._one("statustype", searched, found, available, zt)

    async def eindstatustype(self, zaaktype: JSON | str) -> JSON:
        """The statustype with the highest volgnummer (the one that closes the zaak)."""
        zt = await self._zaaktype(zaaktype)
        items = await self.statustypen(zt)
        if not items:
            raise _not_found("statustype", {"eindstatus": True}, [], zt.get("identificatie"))
        return items[-1]

    # --- roltypen ---

    async def eigenschappen(self, zaaktype: JSON | str) -> list[JSON]:
        """The eigenschappen of a zaaktype (extraElementen → zaakeigenschappen)."""
        zt = await self._zaaktype(zaaktype)
        return await self._of_zaaktype("eigenschappen", zt)

    async def roltypen(self, zaaktype: JSON | str) -> list[JSON]:
        zt = await self._zaaktype(zaaktype)
        return await self._of_zaaktype("roltypen", zt)

    async def roltype(
        self, zaaktype: JSON | str, *, omschrijving: str | None = None, omschrijving_generiek: str | None = None
    ) -> JSON:
        """The roltype by omschrijving (exact, then case-insensitive), else by omschrijvingGeneriek."""
        zt = await self._zaaktype(zaaktype)
        items = await self.roltypen(zt)
        found: list[JSON] = []
        if omschrijving:
            found = match_text(items, omschrijving, prefix=False)
        if not found and omschrijving_generiek:
            found = match_text(items, omschrijving_generiek, "omschrijvingGeneriek", prefix=False)
        if not omschrijving and not omschrijving_generiek:
            raise ValueError("roltype needs an omschrijving or an omschrijvingGeneriek")
        available = [f"{item.get('omschrijving')} ({item.get('omschrijvingGeneriek')})" for item in items]
        searched = {"omschrijving": omschrijving, "omschrijvingGeneriek": omschrijving_generiek}
        return self._one("roltype", searched, found, available, zt)

    # --- resultaattypen ---

    async def resultaattypen(self, zaaktype: JSON | str) -> list[JSON]:
        zt = await self._zaaktype(zaaktype)
        return await self._of_zaaktype("resultaattypen", zt)

    async def resultaattype(self, zaaktype: JSON | str, omschrijving: str) -> JSON:
        """The resultaattype by omschrijving: exact, case-insensitive, both cut to 20 characters, prefix."""
        zt = await self._zaaktype(zaaktype)
        items = await self.resultaattypen(zt)
        found = match_text(items, omschrijving, truncate=RESULTAATTYPE_OMSCHRIJVING_MAX)
        available = [str(item.get("omschrijving")) for item in items]
        return self._one("resultaattype", {"omschrijving": omschrijving}, found, available, zt)

    # --- informatieobjecttypen ---

    async def informatieobjecttypen(self, zaaktype: JSON | str) -> list[JSON]:
        """The informatieobjecttypen of a zaaktype (all versions the zaaktype refers to)."""
        zt = await self._zaaktype(zaaktype)
        refs = zt.get("informatieobjecttypen")
        if isinstance(refs, list) and refs:
            return self._seeded(await self._by_urls("informatieobjecttypen", zt, {str(ref) for ref in refs}))
        # No URL list on the zaaktype (Catalogi 1.3 as VNG publishes it, or a back-end that leaves it empty): the
        # relation itself lives in zaaktype-informatieobjecttypen, by URL or by informatieobjecttype omschrijving.
        links = await self._of_zaaktype("zaaktype-informatieobjecttypen", zt)
        values = {str(link.get("informatieobjecttype")) for link in links if link.get("informatieobjecttype")}
        urls = {value for value in values if value.startswith(("http://", "https://"))}
        return self._seeded(await self._by_urls("informatieobjecttypen", zt, urls, values - urls))

    def _seeded(self, items: list[JSON]) -> list[JSON]:
        """Remember list items by their URL too: a document's informatieobjecttype is then read without a request."""
        for item in items:
            self._cache.seed(("url", str(item.get("url"))), item)
        return items

    async def informatieobjecttype(self, zaaktype: JSON | str, omschrijving: str) -> JSON:
        """The informatieobjecttype of the zaaktype by omschrijving (exact, then case-insensitive), valid today."""
        zt = await self._zaaktype(zaaktype)
        items = await self.informatieobjecttypen(zt)
        return self._versioned("informatieobjecttype", items, omschrijving, zt)

    async def informatieobjecttype_by_url(self, url: str) -> JSON:
        """An informatieobjecttype by its URL (a document's), from the cache."""
        return await self._get(url)

    # --- besluittypen ---

    async def besluittypen(self, zaaktype: JSON | str) -> list[JSON]:
        zt = await self._zaaktype(zaaktype)
        return await self._by_urls("besluittypen", zt, {str(ref) for ref in zt.get("besluittypen") or []})

    async def besluittype(self, zaaktype: JSON | str, omschrijving: str) -> JSON:
        """The besluittype of the zaaktype by omschrijving (exact, then case-insensitive), valid today."""
        zt = await self._zaaktype(zaaktype)
        items = await self.besluittypen(zt)
        return self._versioned("besluittype", items, omschrijving, zt)

    async def besluittypen_valid_today(self, zaaktype: JSON | str) -> list[JSON]:
        """The zaaktype's published besluittypen that are valid today (a besluit without bst.omschrijving)."""
        today = self._today()
        return [bt for bt in await self.besluittypen(zaaktype) if valid_on(bt, today) and not bt.get("concept")]

    async def besluittype_by_url(self, url: str) -> JSON:
        """A besluittype by URL (the one a besluit refers to), cached like the rest."""
        return await self._get(url)

    # --- helpers ---

    def _versioned(self, kind: str, items: list[JSON], omschrijving: str, zaaktype: JSON) -> JSON:
        """Match by omschrijving among types that have their own versions, keeping those valid today."""
        found = match_text(items, omschrijving, prefix=False)
        today = self._today()
        valid = [item for item in found if valid_on(item, today) and not item.get("concept")]
        available = sorted({str(item.get("omschrijving")) for item in items})
        searched = {"omschrijving": omschrijving}
        if found and not valid:
            raise CatalogueNotFound(
                f"{kind} {omschrijving!r} bij zaaktype {zaaktype.get('identificatie')} is niet geldig op "
                f"{today.isoformat()}: {', '.join(_validity(item) for item in found)}",
                kind=kind,
                searched=searched,
                available=available,
                zaaktype=zaaktype.get("identificatie"),
            )
        return self._one(kind, searched, valid, available, zaaktype)

    @staticmethod
    def _one(kind: str, searched: dict[str, Any], found: list[JSON], available: list[str], zaaktype: JSON) -> JSON:
        found = _unique(found)
        if len(found) == 1:
            return found[0]
        identificatie = zaaktype.get("identificatie")
        if not found:
            raise _not_found(kind, searched, available, identificatie)
        matches = [f"{item.get('omschrijving')} ({item.get('url')})" for item in found]
        raise _ambiguous(kind, searched, matches, identificatie)
