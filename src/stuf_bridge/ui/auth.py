"""Who is asking: a signed login cookie (users with Argon2 password hashes), or a trusted reverse proxy's header.

Self-contained so that the deployment can wire it where it wants (another port, another prefix): ``Access`` is made
from the ``ui:`` settings and the server's host, and ``Access.user(request)`` answers with the user or None.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request

from .config import Role, UiSettings

COOKIE = "stuf_bridge_ui"
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
_HASHER = PasswordHasher()
# verified against when the user is unknown, so that a wrong name takes as long as a wrong password
_DUMMY = _HASHER.hash(secrets.token_hex(16))


@dataclass(frozen=True)
class User:
    name: str
    role: Role

    @property
    def admin(self) -> bool:
        return self.role is Role.ADMIN


LOCAL = User("local", Role.ADMIN)  # loopback only, no users configured: whoever is on this machine


class Access:
    def __init__(self, settings: UiSettings, host: str):
        self.settings = settings
        secret = settings.session_secret.get_secret_value() if settings.session_secret else secrets.token_hex(32)
        self._signer = URLSafeTimedSerializer(secret, salt="stuf-bridge-ui")
        needed = settings.require_login
        if needed is None:
            needed = bool(settings.users or settings.proxy_user_header) or host not in LOOPBACK
        self.login_required = needed
        self.has_users = bool(settings.users)

    def user(self, request: Request) -> User | None:
        """The user making this request, or None (then the answer is 401)."""
        if not self.login_required:
            return LOCAL
        header = self.settings.proxy_user_header
        if header is not None:
            name = request.headers.get(header)
            if name:
                role_header = self.settings.proxy_role_header
                role = request.headers.get(role_header, "") if role_header else ""
                return User(name, Role.ADMIN if role.strip().lower() == "admin" else Role.VIEWER)
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            return None
        try:
            name = self._signer.loads(cookie, max_age=int(self.settings.session_hours * 3600))
        except (BadSignature, SignatureExpired):
            return None
        configured = self.settings.users.get(name) if isinstance(name, str) else None
        return User(name, configured.role) if configured is not None else None

    def login(self, name: str, password: str) -> str | None:
        """The cookie value for a right name and password, else None."""
        configured = self.settings.users.get(name)
        try:
            _HASHER.verify(configured.password_hash if configured else _DUMMY, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self._signer.dumps(name) if configured is not None else None
