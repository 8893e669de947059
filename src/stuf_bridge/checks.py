"""``stuf-bridge check-config``: is this configuration ready to take traffic?

It loads the schemas and mapping directory, connects to every configured ZGW API with the configured credentials,
and walks the catalogue: every zaaktype with its statustypen, roltypen, resultaattypen and informatieobjecttypen.
Each configured legacy endpoint is asked for its WSDL (or, failing that, sent an empty POST) and must answer.
Problems that stop messages (unreachable API, refused credentials, schemas that do not load) are errors and make
the command exit 1; things that will fault only some messages (a zaaktype without eindstatus or without an
initiator roltype) are warnings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from .legacy.client import LegacyClient
from .legacy.errors import LegacyError
from .mapping import MappingError, Mappings, pick_roltype
from .settings import ZGW_APIS, Settings
from .stuf.validation import SchemaLoadError, Schemas
from .zgw import CatalogueLookupError, ZgwClients, ZgwError

# A cheap, authenticated list call per API.
_PROBES = {
    "catalogi": "catalogussen",
    "zaken": "zaken",
    "documenten": "enkelvoudiginformatieobjecten",
    "besluiten": "besluiten",
}
_EMBEDDED_BASE = "http://stuf-bridge.check/zgw"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    errors: int = 0
    warnings: int = 0

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok    {text}")

    def warn(self, text: str) -> None:
        self.warnings += 1
        self.lines.append(f"  WARN  {text}")

    def error(self, text: str) -> None:
        self.errors += 1
        self.lines.append(f"  ERROR {text}")

    def section(self, title: str) -> None:
        self.lines.append(title)


def check_config(settings: Settings) -> int:
    report = asyncio.run(run_checks(settings))
    print("\n".join(report.lines))
    print(f"\n{report.errors} error(s), {report.warnings} warning(s)")
    return 1 if report.errors else 0


async def run_checks(settings: Settings) -> Report:
    report = Report()
    report.section("Schemas")
    try:
        schemas = Schemas.from_settings(settings)
        report.ok(f"schemas load from {schemas.xsd_dir}")
    except SchemaLoadError as exc:
        report.error(str(exc))

    report.section("Mappings")
    mappings = None
    try:
        mappings = Mappings.load(overlay_dir=settings.mappings_dir)
        where = f"defaults + {settings.mappings_dir}" if settings.mappings_dir else "defaults"
        report.ok(f"mapping files load ({where}): {len(mappings.entities)} entities")
    except MappingError as exc:
        report.error(f"mapping files: {exc}")
    if settings.default_rsin is None:
        report.warn("no default RSIN: a zender/organisatie not listed in organisaties.yaml gets StUF013")

    report.section("Store")
    await _check_store(settings, report)

    report.section("ZGW backend")
    await _check_backend(settings, mappings, report)
    for tenant in settings.tenants:  # each municipality's own backend and credentials (docs/security.md, Tenants)
        report.section(f"ZGW backend of tenant {tenant.name}")
        await _check_backend(tenant.settings(settings), mappings, report)
    if settings.legacy.configured:
        await _check_legacy(settings, report)
    for tenant in settings.tenants:  # a tenant's own legacy side (docs/security.md, Tenants)
        if tenant.legacy is not None and tenant.legacy.configured:
            await _check_legacy(tenant.settings(settings), report, f"Legacy zaaksysteem of tenant {tenant.name}")
    return report


async def _check_backend(settings: Settings, mappings: Mappings | None, report: Report) -> None:
    """Every ZGW API answers with these credentials; then the catalogue and the profiles' defaults."""
    errors = report.errors
    async with _clients(settings) as (zgw, where):
        report.ok(f"using {where}")
        for api in ZGW_APIS:
            client = zgw.api(api)
            try:
                await client.request("GET", _PROBES[api], params={"page": 1} if api != "catalogi" else None)
                report.ok(f"{api}: {client.url('')} answers, credentials accepted")
            except ZgwError as exc:
                report.error(f"{api}: {exc}")
        if report.errors == errors:
            await _check_catalogue(zgw, report)
            if mappings is not None:
                await _check_profiles(zgw, mappings, report)


async def _check_store(settings: Settings, report: Report) -> None:
    """The gateway's store opens (and is migrated, as ``serve`` would) and answers."""
    from .store import StoreError, create_store

    store = create_store(settings.store_url)
    try:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        async with store:
            if not await store.ping():
                report.error(f"store: {store.url} does not answer")
                return
        report.ok(f"store: {store.url} opens and answers")
    except (StoreError, OSError) as exc:
        report.error(f"store: {' '.join(str(exc).split())}")


async def _check_legacy(settings: Settings, report: Report, section: str = "Legacy zaaksysteem") -> None:
    """Each configured legacy endpoint must answer something (its WSDL, or any HTTP status to an empty POST)."""
    report.section(section)
    async with LegacyClient(settings) as legacy:
        for service, url in settings.legacy.endpoints.items():
            try:
                report.ok(f"{service.value}: {url} answers ({await legacy.probe(service)})")
            except LegacyError as exc:
                report.error(f"{service.value}: {exc.details}")


async def _check_profiles(zgw: ZgwClients, mappings: Mappings, report: Report) -> None:
    """Everything the configuration names per zaaktype must exist in the catalogue: for the zaaktypen with a profile
    of their own, and for every published zaaktype (each can be reached by a creeerZaak) what the defaults name."""
    codes = list(mappings.profiled_zaaktypen)
    default = mappings.profile(None)
    if default.roles or default.fallback_resultaat:
        try:
            published = await zgw.catalogi.list("zaaktypen", {"status": "definitief"})
        except ZgwError as exc:
            report.error(f"zaaktypen: {exc}")
            published = []
        codes += [str(z["identificatie"]) for z in published if z.get("identificatie") not in codes]
    if not codes:
        return
    report.section("Zaaktype profiles (mapping configuration)")
    for code in codes:
        profile = mappings.profile(code)
        try:
            zaaktype = await zgw.catalogue.zaaktype(code)
            roltypen = await zgw.catalogue.roltypen(zaaktype)
        except CatalogueLookupError:  # its text is the Dutch fault text for clients; this report speaks English
            report.error(f"profile {code}: no published zaaktype {code!r} in the catalogue")
            continue
        except ZgwError as exc:
            report.error(f"profile {code}: {exc}")
            continue
        existing = ", ".join(sorted(f"{r.get('omschrijving')} ({r.get('omschrijvingGeneriek')})" for r in roltypen))
        missing = [
            f"{relation} → {keys.omschrijving or '/'.join(keys.generiek)}; the zaaktype has: {existing or 'none'}"
            for relation, keys in profile.roles.items()
            if pick_roltype(keys, roltypen) is None
        ]
        for item in missing:
            report.error(f"profile {code}: no roltype for {item}")
        if profile.fallback_resultaat:
            try:
                await zgw.catalogue.resultaattype(zaaktype, profile.fallback_resultaat)
            except CatalogueLookupError:
                names = ", ".join(str(r.get("omschrijving")) for r in await zgw.catalogue.resultaattypen(zaaktype))
                report.error(f"profile {code}: fallback resultaat {profile.fallback_resultaat!r} is no resultaattype "
                             f"of the zaaktype; it has: {names or 'none'}")
        if not missing:
            report.ok(f"profile {code}: roltypen and fallback resultaat found")


async def _check_catalogue(zgw: ZgwClients, report: Report) -> None:
    report.section("Catalogue")
    try:
        zaaktypen = await zgw.catalogi.list("zaaktypen", {"status": "definitief"})
    except ZgwError as exc:
        report.error(f"zaaktypen: {exc}")
        return
    if not zaaktypen:
        report.warn("no published zaaktypen: creeerZaak will fault for every zaaktype code")
    for zaaktype in zaaktypen:
        name = f"zaaktype {zaaktype.get('identificatie')} ({zaaktype.get('omschrijving')})"
        try:
            statustypen = await zgw.catalogue.statustypen(zaaktype)
            roltypen = await zgw.catalogue.roltypen(zaaktype)
            resultaattypen = await zgw.catalogue.resultaattypen(zaaktype)
            iots = await zgw.catalogue.informatieobjecttypen(zaaktype)
        except ZgwError as exc:
            report.error(f"{name}: {exc}")
            continue
        report.ok(
            f"{name}: {len(statustypen)} statustypen, {len(roltypen)} roltypen, {len(resultaattypen)} "
            f"resultaattypen, {len(iots)} informatieobjecttypen"
        )
        if not statustypen:
            report.warn(f"{name}: no statustypen; statuses and closing will fault")
        if not any(r.get("omschrijvingGeneriek") == "initiator" for r in roltypen):
            report.warn(f"{name}: no roltype with omschrijvingGeneriek 'initiator'; creeerZaak needs one")
        if not resultaattypen:
            report.warn(f"{name}: no resultaattypen; the zaak cannot be closed")


@contextlib.asynccontextmanager
async def _clients(settings: Settings) -> AsyncIterator[tuple[ZgwClients, str]]:
    """Clients for the configured backend; for the embedded one, its app in-process on the data directory."""
    if not settings.zgw_embedded:
        async with ZgwClients.from_settings(settings) as zgw:
            yield zgw, settings.zgw_url or "per-API URLs"
        return
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from .web.app import embedded_backend

    embedded = embedded_backend(settings)
    host = Starlette(routes=[Mount("/zgw", app=embedded)])
    async with embedded.router.lifespan_context(embedded):
        transport = httpx.ASGITransport(app=host)
        async with ZgwClients.from_settings(settings, _EMBEDDED_BASE, transport) as zgw:
            yield zgw, f"the embedded backend in {settings.data_dir.resolve()}"
