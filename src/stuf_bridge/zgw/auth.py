"""JWT authentication towards the ZGW APIs (the "ZGW-autorisatie" HS256 scheme)."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Generator

import httpx
import jwt

try:
    from jwt.warnings import InsecureKeyLengthWarning as _KeyLengthWarning
except ImportError:  # PyJWT < 2.10 does not warn
    _KeyLengthWarning = UserWarning  # type: ignore[assignment,misc]

DEFAULT_RENEW_AFTER = 300.0
RECOMMENDED_SECRET_BYTES = 32
USER_TOKENS = 1000  # tokens per user kept at most (audit attribution)  # RFC 7518 §3.2 for HS256

log = logging.getLogger(__name__)


class JwtAuth(httpx.Auth):
    """Sets ``Authorization: Bearer <jwt>`` on every request.

    The token carries ``iss`` (= client id), ``iat``, ``client_id``, ``user_id`` and ``user_representation`` and is
    signed with HS256. It is cached and re-issued once it is ``renew_after`` seconds old, so ``iat`` never ages
    beyond what servers accept (Open Zaak's default ``JWT_EXPIRY`` is an hour).
    """

    def __init__(
        self,
        client_id: str,
        secret: str,
        *,
        user_id: str = "",
        user_representation: str = "",
        renew_after: float = DEFAULT_RENEW_AFTER,
        clock: Callable[[], float] = time.time,
    ):
        self.client_id = client_id
        self._secret = secret
        self.user_id = user_id
        self.user_representation = user_representation
        self.renew_after = renew_after
        self._clock = clock
        self._token: str | None = None
        self._issued_at = 0.0
        self._lock = threading.Lock()
        self.issued = 0  # number of tokens made, for tests and metrics
        self._user_tokens: dict[tuple[str, str], tuple[str, float]] = {}
        if len(secret.encode()) < RECOMMENDED_SECRET_BYTES:
            # said once here rather than by PyJWT on every token
            log.warning(
                "the ZGW JWT secret for client %s is shorter than %d bytes", client_id, RECOMMENDED_SECRET_BYTES
            )

    def token(self) -> str:
        """The current token, re-issued when it has reached ``renew_after`` seconds (or the clock went back)."""
        now = self._clock()
        with self._lock:
            age = now - self._issued_at
            if self._token is None or age >= self.renew_after or age < 0:
                iat = int(now)
                claims = {
                    "iss": self.client_id,
                    "iat": iat,
                    "client_id": self.client_id,
                    "user_id": self.user_id,
                    "user_representation": self.user_representation,
                }
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", _KeyLengthWarning)
                    self._token = jwt.encode(claims, self._secret, algorithm="HS256")
                self._issued_at = now
                self.issued += 1
            return self._token

    def token_for(self, user_id: str, user_representation: str) -> str:
        """A token whose ``user_id`` / ``user_representation`` name the message's gebruiker and zender (audit
        attribution, ``zgw_audit_user``); cached per user like :meth:`token`, at most ``USER_TOKENS`` users."""
        now = self._clock()
        key = (user_id, user_representation)
        with self._lock:
            cached = self._user_tokens.get(key)
            if cached is not None and 0 <= now - cached[1] < self.renew_after:
                return cached[0]
            claims = {"iss": self.client_id, "iat": int(now), "client_id": self.client_id, "user_id": user_id,
                      "user_representation": user_representation}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", _KeyLengthWarning)
                token = jwt.encode(claims, self._secret, algorithm="HS256")
            if len(self._user_tokens) >= USER_TOKENS:
                self._user_tokens.clear()
            self._user_tokens[key] = (token, now)
            self.issued += 1
            return token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request
