"""Document content on disk, beside the database: ``files/<document uuid>/<name>``."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


class Blobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".tmp").mkdir(parents=True, exist_ok=True)

    def temp_path(self) -> Path:
        return self.root / ".tmp" / uuid.uuid4().hex

    def path(self, name: str) -> Path:
        return self.root / name

    def keep(self, temp: Path, document: str, name: str) -> str:
        """Move a finished temporary file into the document's directory; returns the stored name."""
        directory = self.root / document
        directory.mkdir(parents=True, exist_ok=True)
        os.replace(temp, directory / name)
        return f"{document}/{name}"

    def remove_document(self, document: str) -> None:
        shutil.rmtree(self.root / document, ignore_errors=True)

    def discard(self, path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)
