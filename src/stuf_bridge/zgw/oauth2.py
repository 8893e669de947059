"""OAuth2 client-credentials tokens towards ZGW, next to the ZGW HS256 JWT: for ZGW implementations behind an
OAuth2 authorisation server (OneGround derives the tenant from a claim of its tokens; Keycloak in front of Open
Zaak). The token is fetched from ``token_url`` with ``grant_type=client_credentials`` and reused until shortly before
it expires; one fetch at a time, whichever API asks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any

import httpx

from .errors import ZgwAuthError, ZgwUnavailable

EARLY_RENEWAL_SECONDS = 30.0


class OAuth2ClientCredentials(httpx.Auth):
    def __init__(self, token_url: str, client_id: str, client_secret: str, *, scope: str | None = None,
                 audience: str | None = None, verify: Any = True, timeout: float = 10.0,
                 transport: httpx.AsyncBaseTransport | None = None, clock: Callable[[], float] = time.monotonic):
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.audience = audience
        self._verify = verify
        self._timeout = timeout
        self._transport = transport
        self._clock = clock
        self._token = ""
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.issued = 0  # tokens fetched, for tests and metrics

    def token(self) -> str:
        """The current token ('' before the first fetch; ``ensure`` fetches it)."""
        return self._token

    def token_for(self, user_id: str, user_representation: str) -> str:
        """An OAuth2 token names the gateway's client, not a user: the same token (the audit toelichting still names
        the zender and gebruiker)."""
        return self._token

    async def ensure(self) -> str:
        """A token valid for at least ``EARLY_RENEWAL_SECONDS`` more, fetched when needed."""
        if self._token and self._clock() < self._expires:
            return self._token
        async with self._lock:
            if self._token and self._clock() < self._expires:
                return self._token
            await self._fetch()
        return self._token

    async def _fetch(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        if self.audience:
            form["audience"] = self.audience
        try:
            async with httpx.AsyncClient(verify=self._verify, timeout=self._timeout,
                                         transport=self._transport) as http:
                response = await http.post(self.token_url, data=form, auth=(self.client_id, self._secret),
                                           headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ZgwUnavailable(f"POST {httpx.URL(self.token_url).path} (OAuth2-token) → niet bereikbaar",
                                 method="POST", url=self.token_url, detail=type(exc).__name__) from exc
        try:
            payload = response.json() if response.is_success else {}
        except ValueError:
            payload = {}
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not response.is_success or not isinstance(token, str) or not token:
            raise ZgwAuthError(
                f"POST {httpx.URL(self.token_url).path} (OAuth2-token) → {response.status_code}: geen access_token",
                method="POST", url=self.token_url, status=response.status_code)
        lifetime = payload.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, (int, float, str)) and str(lifetime).isdigit() else 300.0
        self._token = token
        self._expires = self._clock() + max(seconds - EARLY_RENEWAL_SECONDS, 1.0)
        self.issued += 1

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {await self.ensure()}"
        yield request
