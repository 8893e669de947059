"""Password checks: argon2 hashes (argon2-cffi, the reference implementation's maintained binding) or a password
compared in constant time. ``stuf-bridge hash-password`` makes the hashes for the config file."""

from __future__ import annotations

import asyncio
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .config import PasswordSource

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_hash(password_hash: str) -> None:
    """Raise ``ValueError`` unless ``password_hash`` is an argon2 hash this library can verify against."""
    if not password_hash.startswith("$argon2"):
        raise ValueError("password_hash must be an argon2 hash (make one with `stuf-bridge hash-password`)")


class PasswordCheck:
    """Checks a given password against a :class:`PasswordSource`. Hashes are verified with argon2 (deliberately
    slow: some tens of milliseconds), so a password found right is remembered for the process (as its own
    keyed digest, never the text): a client sending Basic on every message pays the hash once."""

    def __init__(self, source: PasswordSource):
        self._hash = source.password_hash.get_secret_value() if source.password_hash is not None else None
        if self._hash is not None:
            check_hash(self._hash)
        self._plain = source.plain()
        self._key = hmac.digest(b"stuf-bridge", (self._hash or "").encode(), "sha256")
        self._known: bytes | None = None

    @property
    def plain(self) -> str | None:
        return self._plain

    async def averify(self, password: str) -> bool:
        """``verify``, with an argon2 verification (tens of milliseconds of CPU) off the event loop."""
        if self._plain is not None or self._known is not None:
            return self.verify(password)
        return await asyncio.to_thread(self.verify, password)

    def verify(self, password: str) -> bool:
        if self._plain is not None:
            return hmac.compare_digest(password.encode(), self._plain.encode())
        assert self._hash is not None
        mark = hmac.digest(self._key, password.encode(), "sha256")
        if self._known is not None:
            return hmac.compare_digest(mark, self._known)
        try:
            _HASHER.verify(self._hash, password)
        except (VerificationError, InvalidHashError):
            return False
        self._known = mark
        return True
