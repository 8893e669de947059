"""stuf-bridge: a gateway from StUF-ZKN / ZDS SOAP messages (ZDS 1.1 and 1.2) to the ZGW REST APIs."""

import importlib.metadata as _metadata

try:
    __version__ = _metadata.version("stuf-bridge")  # one place for the version: pyproject.toml, through the metadata
except _metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree that was never installed
    __version__ = "0+unknown"
__all__: list[str] = []  # the command is ``stuf-bridge`` (cli.py); code imports from the subpackages
