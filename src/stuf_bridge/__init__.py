"""stuf-bridge: a gateway from StUF-ZKN / ZDS SOAP messages (ZDS 1.1 and 1.2) to the ZGW REST APIs."""

__version__ = "0.1.0"
