"""SOAP: hardened XML parsing (``xmlparse``; ``streaming`` for bodies parsed as they arrive), MTOM (``mtom``), SOAP
1.1/1.2 envelopes and faults (``envelope``) and the WSDLs (``wsdl``). Import from those modules; the package itself
exports nothing."""

__all__: list[str] = []
