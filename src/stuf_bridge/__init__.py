"""stuf-bridge: a gateway from StUF-ZKN / ZDS SOAP messages (ZDS 1.1 and 1.2) to the ZGW REST APIs."""

__version__ = "0.1.0"
__all__: list[str] = []  # the command is ``stuf-bridge`` (cli.py); code imports from the subpackages
