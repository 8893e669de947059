"""The HTTP face of the gateway (``app``: the ZDS services, WSDLs, schemas, health and metrics)."""

__all__: list[str] = []
