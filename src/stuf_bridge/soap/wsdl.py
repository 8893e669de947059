"""The WSDLs the gateway serves on ``GET <endpoint>?wsdl``, generated from the operation registry.

One WSDL 1.1 document per (service, dialect), document/literal, with:

* the official service/portType name of the dialect (``Service.wsdl_service_name``);
* three messages per operation (``<op>_Request``, ``<op>_Response``, ``<op>_Fout``), each with a single
  ``body`` part naming the body element. Messages are per operation, not per element, because in ZDS 1.1
  several operations send the same element (``ZKN:zakLk01``, ``ZKN:zakLv01``, ``ZKN:edcLk01``);
* a portType with every registry operation of the service and dialect, each with a ``fout`` fault
  (``StUF:Fo02Bericht`` on the synchronous services, ``StUF:Fo03Bericht`` on OntvangAsynchroon);
* a SOAP 1.1 binding (official name ``SOAP<name>``) and a SOAP 1.2 binding (``SOAP12<name>``), both carrying
  each operation's SOAPAction, and a service with one port per binding on the same address
  ``{base_url}/zds/{Service.value}``;
* one ``xs:import`` per namespace of the message elements, pointing at the schemas the gateway serves under
  ``{base_url}/xsd/`` (see :data:`SCHEMA_FILES`).

Rendered documents are cached per (service, dialect, base_url).
"""

from __future__ import annotations

import functools
from typing import Final

from lxml import etree

from ..stuf.namespaces import STUF, ZDS, ZKN, Dialect
from ..stuf.registry import REGISTRY, Operation, Service

__all__ = [
    "SCHEMA_FILES",
    "WSDL_CONTENT_TYPE",
    "endpoint_url",
    "render_wsdl",
    "schema_url",
    "wsdl_url",
]

WSDL: Final = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP11: Final = "http://schemas.xmlsoap.org/wsdl/soap/"
WSDL_SOAP12: Final = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS: Final = "http://www.w3.org/2001/XMLSchema"
HTTP_TRANSPORT: Final = "http://schemas.xmlsoap.org/soap/http"

WSDL_CONTENT_TYPE: Final = "text/xml; charset=utf-8"
"""Content type to serve the WSDL with."""

SCHEMA_FILES: Final[dict[str, str]] = {
    ZKN: "zds11.xsd",
    ZDS: "zds12.xsd",
    STUF: "stuf.xsd",
}
"""Entry schema per namespace, relative to the served ``xsd/`` directory."""

_PREFIXES: Final[dict[str, str]] = {ZKN: "ZKN", ZDS: "ZDS", STUF: "StUF"}

_FAULT_NAME: Final = "fout"


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def endpoint_url(base_url: str, service: Service) -> str:
    """The SOAP address of a service: ``{base_url}/zds/{Service.value}``."""
    return f"{_base(base_url)}/zds/{Service(service).value}"


def wsdl_url(base_url: str, service: Service, dialect: Dialect) -> str:
    """Where the WSDL of (service, dialect) is fetched from."""
    url = endpoint_url(base_url, service) + "?wsdl"
    return url if Dialect(dialect) is Dialect.ZDS11 else f"{url}&dialect={Dialect(dialect).value}"


def schema_url(base_url: str, namespace: str) -> str:
    """The URL of the entry schema of a namespace, as imported by the WSDLs."""
    return f"{_base(base_url)}/xsd/{SCHEMA_FILES[namespace]}"


def render_wsdl(service: Service, dialect: Dialect, base_url: str) -> bytes:
    """The WSDL (UTF-8 bytes) of ``service`` in ``dialect``, with addresses under ``base_url``."""
    return _render(Service(service), Dialect(dialect), _base(base_url))


@functools.lru_cache(maxsize=64)
def _render(service: Service, dialect: Dialect, base_url: str) -> bytes:
    operations = REGISTRY.for_service(dialect, service)
    if not operations:
        raise ValueError(f"no operations for {service.value} in ZDS {dialect.value}")
    tns = dialect.namespace
    name = service.wsdl_service_name(dialect)
    nsmap: dict[str | None, str] = {
        "wsdl": WSDL,
        "soap": WSDL_SOAP11,
        "soap12": WSDL_SOAP12,
        "xs": XS,
        _PREFIXES[tns]: tns,
        "StUF": STUF,
    }

    def w(local: str) -> str:
        return f"{{{WSDL}}}{local}"

    def prefixed(namespace: str, local: str) -> str:
        return f"{_PREFIXES[namespace]}:{local}"

    root = etree.Element(w("definitions"), nsmap=nsmap, name=name, targetNamespace=tns)  # type: ignore[arg-type]  # lxml-stubs forbid the None key of a default namespace
    doc = etree.SubElement(root, w("documentation"))
    doc.text = (
        f"{name} service of the stuf-bridge gateway, ZDS {dialect.value} dialect "
        f"(generated from the gateway's operation registry)."
    )

    # types: one import per namespace of the body elements
    namespaces = sorted(
        {ns for op in operations for ns, _ in (op.request, op.response)} | {STUF},
        key=lambda ns: (ns == STUF, ns),
    )
    schema = etree.SubElement(etree.SubElement(root, w("types")), f"{{{XS}}}schema")
    for ns in namespaces:
        etree.SubElement(schema, f"{{{XS}}}import", namespace=ns, schemaLocation=schema_url(base_url, ns))

    # messages: one set per operation
    for op in operations:
        for suffix, (ns, local) in _messages(op):
            msg = etree.SubElement(root, w("message"), name=f"{op.name}_{suffix}")
            etree.SubElement(msg, w("part"), name="body", element=prefixed(ns, local))

    # portType
    port_type = etree.SubElement(root, w("portType"), name=name)
    for op in operations:
        el = etree.SubElement(port_type, w("operation"), name=op.name)
        etree.SubElement(el, w("input"), message=prefixed(tns, f"{op.name}_Request"))
        etree.SubElement(el, w("output"), message=prefixed(tns, f"{op.name}_Response"))
        etree.SubElement(el, w("fault"), name=_FAULT_NAME, message=prefixed(tns, f"{op.name}_Fout"))

    # bindings: SOAP 1.1 (official name) and SOAP 1.2
    bindings = (("SOAP" + name, WSDL_SOAP11), ("SOAP12" + name, WSDL_SOAP12))
    for binding_name, soap_ns in bindings:
        binding = etree.SubElement(root, w("binding"), name=binding_name, type=prefixed(tns, name))
        etree.SubElement(binding, f"{{{soap_ns}}}binding", style="document", transport=HTTP_TRANSPORT)
        for op in operations:
            el = etree.SubElement(binding, w("operation"), name=op.name)
            etree.SubElement(el, f"{{{soap_ns}}}operation", soapAction=op.soap_action, style="document")
            for direction in ("input", "output"):
                etree.SubElement(etree.SubElement(el, w(direction)), f"{{{soap_ns}}}body", use="literal")
            fault = etree.SubElement(el, w("fault"), name=_FAULT_NAME)
            etree.SubElement(fault, f"{{{soap_ns}}}fault", name=_FAULT_NAME, use="literal")

    # service: one port per binding, same address
    svc = etree.SubElement(root, w("service"), name=name)
    address = endpoint_url(base_url, service)
    for (binding_name, soap_ns), port_name in zip(bindings, (name, name + "Soap12"), strict=True):
        port = etree.SubElement(svc, w("port"), name=port_name, binding=prefixed(tns, binding_name))
        etree.SubElement(port, f"{{{soap_ns}}}address", location=address)

    rendered: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return rendered


def _messages(op: Operation) -> tuple[tuple[str, tuple[str, str]], ...]:
    """(message suffix, body element) of an operation's input, output and fault."""
    return (
        ("Request", op.request),
        ("Response", op.response),
        ("Fout", (STUF, f"{op.fault_kind}Bericht")),
    )
