"""The notification path of one gateway process, built at start-up (``web/app.py``): the callback, the inbox worker,
the outbox handler of ``subscriber:`` targets and the echo guard."""

from __future__ import annotations

import secrets

import httpx

from ..mapping import Mappings
from ..settings import Settings
from ..store import Store
from ..stuf.registry import Service
from ..zgw import ZgwClients
from .callback import Callback
from .delivery import TARGET, SubscriberDelivery
from .echo import EchoGuard
from .messages import Sender
from .processor import InboxProcessor
from .sealing import Sealer, key_from_file, parse_key
from .state import Planner
from .store import NotificationStore


def own_token() -> str:
    """The Authorization value the embedded backend is given for this gateway's own callback (one per process)."""
    return f"Bearer {secrets.token_urlsafe(32)}"


def replicate_targets(settings: Settings) -> set[str]:
    """The subscribers that are the legacy zaaksysteem replicate feeds (explicitly, or by their endpoint)."""
    legacy = settings.legacy.endpoints.get(Service.ONTVANG_ASYNCHROON)
    return {s.name for s in settings.notifications.subscribers
            if s.replicate_target or (s.replicate_target is None and legacy is not None
                                      and s.endpoint.rstrip("/") == legacy.rstrip("/"))}


def sealer_for(settings: Settings, store: Store) -> Sealer:
    """What seals the snapshots: the configured snapshot_key, or on SQLite the key kept in the data directory."""
    key = settings.notifications.snapshot_key
    if key is not None:
        return Sealer(parse_key(key.get_secret_value()))
    if store.dialect == "postgresql":
        raise ValueError("notifications.snapshot_key is required with subscribers on PostgreSQL (every gateway "
                         "process must seal and open the snapshots with the same key); make one with "
                         "`python -c \"import base64,os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())\"`")
    return Sealer(key_from_file(settings.data_dir))


class Notifications:
    def __init__(self, settings: Settings, store: Store, zgw: ZgwClients | None, mappings: Mappings, *,
                 own_auth: str | None = None, transport: httpx.AsyncBaseTransport | None = None):
        config = settings.notifications
        self.settings = config
        self.inbox = NotificationStore(store, sealer_for(settings, store) if config.active else None)
        self.callback = Callback(config, self.inbox, extra_auth=[own_auth] if own_auth else [])
        self.sender = Sender(settings.organisatie, settings.applicatie)
        self.echo: EchoGuard | None = None
        self.delivery: SubscriberDelivery | None = None
        self.processor: InboxProcessor | None = None
        if zgw is None or not config.active:
            return
        planner = Planner(mappings, self.sender)
        self.echo = EchoGuard(config, self.inbox, zgw, planner, replicate_targets(settings))
        self.delivery = SubscriberDelivery(config, self.inbox, zgw, planner, self.sender, transport=transport,
                                           before=self.echo.wait)
        self.processor = InboxProcessor(config, store, self.inbox, zgw)

    @property
    def handlers(self) -> dict[str, SubscriberDelivery]:
        return {TARGET: self.delivery} if self.delivery is not None else {}

    def start(self) -> None:
        if self.processor is not None:
            self.processor.start()

    async def stop(self) -> None:
        if self.processor is not None:
            await self.processor.stop()
        if self.delivery is not None:
            await self.delivery.aclose()
