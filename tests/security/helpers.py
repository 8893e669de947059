"""Test helpers: a config file with clients, WS-Security headers put into messages, the gateway's internal URL."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import yaml
from lxml import etree

from stuf_bridge.security.passwords import hash_password
from stuf_bridge.security.wsse import PASSWORD_DIGEST, PASSWORD_TEXT, WSSE, WSU, make_digest

PORTAAL_PASSWORD = "portaal-wachtwoord-lang-genoeg"
WSSE_PASSWORD = "wsse-wachtwoord-ook-lang"
BEPERKT_PASSWORD = "beperkt-wachtwoord"
ALLES_PASSWORD = "alles-wachtwoord"
CERT_SUBJECT = "CN=zaaksysteem,O=Gemeente Test,C=NL"


def clients_config() -> list[dict[str, Any]]:
    return [
        {"name": "portaal", "basic": {"username": "portaal", "password_hash": hash_password(PORTAAL_PASSWORD)},
         "zenders": ["0363/OpenFormulieren"], "operations": ["*"], "zaaktypen": ["*"]},
        {"name": "formulieren", "wsse": {"username": "formulieren", "password": WSSE_PASSWORD},
         "zenders": ["0363/OpenFormulieren"], "operations": ["creeerZaak", "genereerZaakIdentificatie"],
         "zaaktypen": ["MELDING-OR"]},
        {"name": "beperkt", "basic": {"username": "beperkt", "password": BEPERKT_PASSWORD},
         "zenders": ["0363/*"], "zaaktypen": ["MELDING-OR"]},
        {"name": "alles", "basic": {"username": "alles", "password": ALLES_PASSWORD}},
        {"name": "zaaksysteem", "certificate": {"subject": CERT_SUBJECT}, "zenders": ["*"]},
    ]


def write_config(directory: Path, **more: Any) -> Path:
    path = directory / "stuf-bridge.yaml"
    path.write_text(yaml.safe_dump({"clients": clients_config(), **more}), encoding="utf-8")
    return path


def internal_url(log: list[str]) -> str:
    for line in log:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "listening" and event.get("internal"):
            return str(event["internal"])
    raise AssertionError("no internal port in the log:\n" + "".join(log[:20]))


def with_token(body: bytes, username: str, password: str, *, digest: bool = True, nonce: bytes | None = None,
               created: dt.datetime | None = None) -> bytes:
    """The message with a WS-Security UsernameToken in its SOAP header, as zeep (Open Formulieren) writes it."""
    root = etree.fromstring(body)
    soap_ns = etree.QName(root).namespace
    header = root.find(f"{{{soap_ns}}}Header")
    if header is None:
        header = etree.Element(f"{{{soap_ns}}}Header")
        root.insert(0, header)
    security = etree.SubElement(header, f"{{{WSSE}}}Security", nsmap={"wsse": WSSE, "wsu": WSU})
    token = etree.SubElement(security, f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Username").text = username
    nonce = nonce if nonce is not None else os.urandom(16)
    stamp = (created or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    password_el = etree.SubElement(token, f"{{{WSSE}}}Password",
                                   Type=PASSWORD_DIGEST if digest else PASSWORD_TEXT)
    password_el.text = make_digest(nonce, stamp, password) if digest else password
    nonce_el = etree.SubElement(token, f"{{{WSSE}}}Nonce")
    nonce_el.text = base64.b64encode(nonce).decode()
    etree.SubElement(token, f"{{{WSU}}}Created").text = stamp
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def zgw_headers() -> dict[str, str]:
    claims = {"iss": "test", "iat": int(time.time()), "client_id": "stuf-bridge", "user_id": "test",
              "user_representation": "test"}
    token = jwt.encode(claims, "stuf-bridge-demo-secret-not-for-production", algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Accept-Crs": "EPSG:4326"}
