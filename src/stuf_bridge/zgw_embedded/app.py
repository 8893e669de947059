"""The embedded ZGW backend as one ASGI application: ``create_app(config)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

from . import audit, openapi, problems
from .blobs import Blobs
from .catalogi import router as catalogi_router
from .config import EmbeddedConfig
from .db import Database
from .notifications import Notifier, NotifyingMiddleware
from .rest import ApiVersionHeader, HeadAsGet
from .seeding import load_yaml, seed_into


@dataclass
class Backend:
    """What the request handlers share, at ``app.state.zgw``."""

    config: EmbeddedConfig
    db: Database
    blobs: Blobs
    notifier: Notifier


def create_app(config: EmbeddedConfig) -> FastAPI:
    """The Zaken, Documenten, Catalogi and Besluiten APIs at ``/<api>/api/v1/`` below the app's own root.

    The store is opened (and seeded from ``config.seed_file`` when it holds no catalogus) right here, not in a
    lifespan, so the app also works when mounted in another app whose lifespan does not reach it.
    """
    database = Database(config.database_path)
    if config.seed_file is not None and database.is_empty():
        seed_into(database, load_yaml(config.seed_file))
    notifier = Notifier(list(config.notification_targets), database=database)
    backend = Backend(config=config, db=database, blobs=Blobs(config.files_dir), notifier=notifier)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notifier.resume()  # what a stopped process had not delivered yet
        yield
        await notifier.close()
        database.close()

    app = FastAPI(
        title="stuf-bridge embedded ZGW backend",
        description="Zaken 1.5.1, Documenten 1.4.3, Catalogi 1.3.1 (read-only) and Besluiten 1.1.0, as far as "
        "the stuf-bridge gateway uses them. Authenticate with an HS256 JWT (`Authorization: Bearer ...`).",
        version="1.0.0",
        lifespan=lifespan,
    )
    app.state.zgw = backend
    problems.install_handlers(app)
    app.add_middleware(ApiVersionHeader)
    app.add_middleware(HeadAsGet)
    audit.create_table(database)
    app.add_middleware(audit.AuditTrail, database=database)  # writes and their X-Audit-Toelichting
    app.add_middleware(NotifyingMiddleware, notifier=notifier, database=lambda: database)
    for router in _routers():
        app.include_router(router)
    openapi.install(app)
    return app


def _routers() -> list:  # type: ignore[type-arg]
    from . import besluiten, documenten, documenten_relaties, zaken, zaken_relaties, zaken_rollen, zaken_status

    return [audit.router, catalogi_router, zaken.router, zaken_status.router, zaken_rollen.router,
            zaken_relaties.router, documenten.router, documenten_relaties.router, besluiten.router]
