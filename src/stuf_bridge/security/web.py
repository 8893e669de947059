"""The HTTP side of security: the :class:`Peer` of a request, the TLS protocol that tells the app the client
certificate, and the internal port's guard (``/metrics``, ``/ready``, ``/ui/``, ``/zgw``)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import ssl
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import structlog

from .identity import Subject, subject_from_ssl
from .passwords import PasswordCheck
from .peer import Peer

if TYPE_CHECKING:
    from ..settings import Settings

log = structlog.get_logger(__name__)

#: the scope extension the TLS protocol fills in (the ASGI TLS extension's name)
TLS_EXTENSION = "tls"


def peer_of(request: Request, settings: Settings) -> Peer:
    tls = request.scope.get("extensions", {}).get(TLS_EXTENSION) or {}
    header = settings.security.client_certificate_header
    return Peer(
        address=request.client.host if request.client else None,
        authorization=request.headers.get("authorization"),
        certificate=tls.get("stuf_bridge_client_subject"),
        certificate_header=request.headers.get(header) if header else None,
    )


def server_protocol(base: type[asyncio.Protocol], *, header_timeout: float,
                    body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class ``base``, with what uvicorn lacks:

    * **a header timeout**: a connection that has not sent a request's complete headers within ``header_timeout``
      seconds of its first byte (or of connecting) is closed (a slow-loris client holds no connection for long);
    * **a body timeout**: while the app waits for more of a request's body, the client must send some within
      ``body_timeout`` seconds, or the connection is closed (the app then sees the client gone);
    * **the client certificate**: the verified certificate's subject, for the authenticate stage, in
      ``scope["extensions"]["tls"]`` (uvicorn itself does not pass it on).
    """

    class ServerProtocol(base):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._guard: asyncio.TimerHandle | None = None
            self._arm(header_timeout)
            ssl_object = transport.get_extra_info("ssl_object")
            subject: Subject | None = None
            if isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
                cert = ssl_object.getpeercert()
                if cert and cert.get("subject"):
                    subject = subject_from_ssl(cert["subject"])  # type: ignore[arg-type]
            app: ASGIApp = vars(self)["app"]  # set by uvicorn's protocol __init__ (config.loaded_app)
            guard = self

            async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] not in ("http", "websocket"):
                    await app(scope, receive, send)
                    return
                guard._disarm()  # the headers are complete
                if subject is not None:
                    extensions = dict(scope.get("extensions") or {})
                    extensions[TLS_EXTENSION] = {"stuf_bridge_client_subject": subject}
                    scope["extensions"] = extensions
                body_done = False

                async def timed_receive() -> Message:
                    nonlocal body_done
                    if body_done:  # after the body: waiting for a disconnect (a streamed answer) is not timed
                        return await receive()
                    guard._arm(body_timeout)
                    try:
                        message = await receive()
                    finally:
                        guard._disarm()
                    if message["type"] != "http.request" or not message.get("more_body", False):
                        body_done = True
                    return message

                await app(scope, timed_receive, send)

            self.app = guarded

        def data_received(self, data: bytes) -> None:
            cycle = getattr(self, "cycle", None)
            if self._guard is None and (cycle is None or cycle.response_complete):
                self._arm(header_timeout)  # a new request begins: its headers are timed
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self, seconds: float) -> None:
            self._disarm()
            self._guard = asyncio.get_running_loop().call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self._guard is not None:
                self._guard.cancel()
                self._guard = None

        def _expire(self) -> None:
            self._guard = None
            log.info("connection_timed_out", client=getattr(self, "client", None))
            self.transport.close()

    return ServerProtocol


def server_ssl_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's ssl settings from ``security.tls`` (empty without TLS)."""
    tls = settings.security.tls
    if not tls.enabled:
        return {}
    options: dict[str, Any] = {"ssl_certfile": str(tls.certificate), "ssl_keyfile": str(tls.key)}
    if tls.key_password_file is not None:
        options["ssl_keyfile_password"] = tls.key_password_file.read_text(encoding="utf-8").rstrip("\r\n")
    if tls.client_ca is not None:
        options["ssl_ca_certs"] = str(tls.client_ca)
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED if tls.require_client_certificate else ssl.CERT_OPTIONAL
    return options


#: what only the internal port serves when there is one, and what internal_basic protects
INTERNAL_PATHS = ("/metrics", "/ready", "/ui", "/zgw")
PROTECTED_PATHS = ("/metrics", "/ready", "/ui")


def _under(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p + "/") for p in prefixes)


class InternalGuard:
    """ASGI middleware: with an internal port, ``INTERNAL_PATHS`` answer 404 on every other port and the SOAP
    paths 404 on the internal one; with ``internal_basic``, ``PROTECTED_PATHS`` need those credentials."""

    def __init__(self, app: ASGIApp, internal_port: int | None, basic: PasswordCheck | None, username: str | None):
        self.app = app
        self.internal_port = internal_port
        self.basic = basic
        self.username = username

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if self.internal_port is not None:
            port = (scope.get("server") or (None, None))[1]
            internal = _under(path, INTERNAL_PATHS)
            on_internal = port == self.internal_port
            if (internal and not on_internal) or (on_internal and not internal and path != "/health"):
                await PlainTextResponse("Niet gevonden", status_code=404)(scope, receive, send)
                return
        if self.basic is not None and _under(path, PROTECTED_PATHS) and not await self._authorised(scope):
            response = PlainTextResponse("Authenticatie vereist", status_code=401,
                                         headers={"www-authenticate": 'Basic realm="stuf-bridge internal"'})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _authorised(self, scope: Scope) -> bool:
        assert self.basic is not None and self.username is not None
        value = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if value[:6].lower() != "basic ":
            return False
        try:
            username, _, password = base64.b64decode(value[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(username.encode(), self.username.encode()) and await self.basic.averify(password)
