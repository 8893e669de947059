"""The embedded ZGW backend: a persistent implementation of the parts of the Zaken, Documenten, Catalogi and
Besluiten APIs the gateway uses, as a separate ASGI app. The gateway core never imports it; it reaches it by URL.

Public surface::

    create_app(EmbeddedConfig(data_dir=..., client_id=..., secret=...)) -> FastAPI
    EmbeddedSettings()                                  # its own settings, from STUF_BRIDGE_EMBEDDED_*
    seed(data_dir, catalogue_yaml) -> SeedReport        # synchronous, idempotent
    DEMO_CATALOGUE                                      # path of the bundled demo catalogue
"""

from pathlib import Path as _Path

from .app import create_app
from .config import EmbeddedConfig, EmbeddedSettings
from .seeding import SeedError, SeedReport, seed

DEMO_CATALOGUE = _Path(__file__).with_name("demo-catalogue.yaml")

__all__ = ["create_app", "DEMO_CATALOGUE", "EmbeddedConfig", "EmbeddedSettings", "seed", "SeedError", "SeedReport"]
