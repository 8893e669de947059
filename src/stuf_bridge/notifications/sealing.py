"""Snapshots sealed at rest: what a subscriber acknowledged holds personal data (an initiator's BSN, a name), so the
snapshot's ``acked`` and ``inflight`` are stored encrypted (AES-256-GCM, ``cryptography``), never in clear.

Why encryption and not a digest: a W kennisgeving carries the old object as the subscriber got it (STUF §5.2) — an
initiator that is replaced goes out as a V relation *with its BSN*, so the receiver knows which relation ends. A
keyed digest would tell that something changed, but could not say what it was. The snapshot must therefore keep the
old values, and it keeps them sealed.

The key (32 bytes, base64) is ``notifications.snapshot_key`` (or ``STUF_BRIDGE_NOTIFICATIONS_SNAPSHOT_KEY_FILE``).
Unset, on a SQLite store, one is made at the first start and kept in ``{data_dir}/notification-snapshots.key``
(mode 0600, next to the database it protects from copies of the database alone); on PostgreSQL, where several
processes share the snapshots, the key must be configured. The subscriber and zaak URL are bound into each sealed
value (associated data), so a value cannot be moved to another row. A row written before sealing existed (plain
JSON) is read as it is and sealed at its next save.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = b"sb-aesgcm1:"
KEY_FILE = "notification-snapshots.key"


class SealError(Exception):
    """A sealed value that this key cannot open (another key, or altered)."""


def parse_key(text: str) -> bytes:
    """A key as configured: base64 (standard or URL-safe) of 32 bytes."""
    value = text.strip()
    try:
        key = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("snapshot_key must be base64 of 32 bytes") from exc
    if len(key) != 32:
        raise ValueError(f"snapshot_key must be base64 of 32 bytes, not {len(key)}")
    return key


def new_key() -> str:
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode()


def key_from_file(data_dir: Path) -> bytes:
    """The key kept in the data directory, made (0600) when there is none yet."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(fd, "w") as out:
                out.write(new_key() + "\n")
    return parse_key(path.read_text())


class Sealer:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, data: bytes, context: str) -> bytes:
        nonce = os.urandom(12)
        return PREFIX + nonce + self._aead.encrypt(nonce, data, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        if not blob.startswith(PREFIX):
            return blob  # written before sealing: plain JSON, sealed at its next save
        body = blob[len(PREFIX):]
        try:
            return self._aead.decrypt(body[:12], body[12:], context.encode())
        except InvalidTag as exc:
            raise SealError("a notification snapshot cannot be opened with this snapshot_key") from exc
