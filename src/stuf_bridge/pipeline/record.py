"""Stage *record*: what happened to the message, written down once it is answered. It wraps every other stage, so it
sees the whole exchange: the operation, the sender, the route, the outcome (answer or fault with its StUF code and
reason; for a proxied message ``ok`` or ``legacy-fault`` with the legacy's StUF code, as the proxy mode found it),
the HTTP status, the warnings and every ZGW call made for it.

Today it writes one log line per message (and a DEBUG line per ZGW call) and hands the exchange to each
:class:`Recorder` the gateway was given (the Prometheus metrics of ``web/app.py``). A trace store is one more
recorder. Logs carry no BSNs: warnings are masked before they are written.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from typing import Protocol

import structlog

from ..correlation import correlated
from ..trace.context import MessageTrace, tracing
from ..zgw import ZgwCall, record_zgw_calls
from .exchange import Exchange, Next, Reply

log = structlog.get_logger("stuf_bridge.gateway")


class Recorder(Protocol):
    """Told of every message once it is answered. A recorder may also have ``started(x: Exchange) -> None``: called
    when the message arrives, before any other stage (the trace shows messages in progress)."""

    def record(self, x: Exchange, reply: Reply, seconds: float) -> None: ...


class Record:
    name = "record"

    def __init__(self, recorders: Sequence[Recorder] = ()):
        self.recorders = list(recorders)
        self.starters = [start for start in (getattr(r, "started", None) for r in self.recorders) if start is not None]

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        started = time.perf_counter()
        x.trace = MessageTrace(x.correlation_id, started=started)
        for start in self.starters:
            start(x)
        with correlated(x.correlation_id), tracing(x.trace):  # every log line and call of the message; its trace
            with record_zgw_calls() as zgw_calls:
                await call_next(x)
            self.written(x, zgw_calls, time.perf_counter() - started)

    def written(self, x: Exchange, zgw_calls: list[ZgwCall], seconds: float) -> None:
        """The message's log line and the recorders, once it is answered."""
        reply = x.reply
        assert reply is not None  # the answer stage always leaves one
        reply.correlation_id = x.correlation_id
        op, sg = x.operation, x.stuurgegevens
        reply.zgw_calls = zgw_calls
        reply.warnings = x.warnings
        reply.operation = op.name if op else "unknown"
        reply.dialect = op.dialect.value if op else "unknown"
        reply.soap = x.version.value
        reply.zender = sg.zender.label() if sg and sg.zender else None
        reply.referentienummer = sg.referentienummer if sg else None
        route = x.route.log_fields() if x.route else {}
        # Alerting works on the level: a fault the gateway or its backends caused (plek server) is an error, one the
        # client caused a warning, an answer info.
        level = "info" if reply.outcome == "ok" else "error" if reply.fault_plek == "server" else "warning"
        log.log(
            logging.getLevelNamesMapping()[level.upper()],
            "message",
            operation=reply.operation,
            dialect=reply.dialect,
            soap=reply.soap,
            zender=reply.zender,
            referentienummer=reply.referentienummer,
            zaak=x.subject.zaak if x.subject else None,
            route=route.get("mode"),
            rule=route.get("rule"),
            primary=route.get("primary"),
            zaaktype=route.get("zaaktype"),
            zaaktype_source=route.get("zaaktype_source"),
            outcome=reply.outcome,
            status=reply.status,
            fault_code=reply.fault_code,
            fault_reason=reply.fault_reason,
            replayed=reply.replayed or None,
            warnings=masked_warnings(x) or None,
            zgw_calls=len(zgw_calls),
            zgw_ms=round(sum(c.elapsed_ms for c in zgw_calls), 2),
            ms=round(seconds * 1000, 2),
            **({"tenant": x.env.tenant} if x.env.tenant is not None else {}),  # with tenants: whose backend
        )
        for call in zgw_calls:  # paths only: query strings can hold a BSN
            log.debug("zgw_call", api=call.api, method=call.method, path=call.url.split("?", 1)[0],
                      status=call.status, ms=round(call.elapsed_ms, 2), error=call.error)
        for recorder in self.recorders:
            recorder.record(x, reply, seconds)


# A BSN written as a number: 8 to 10 digits (a BSN, one with a digit too many, an RSIN, which is no secret), also
# in groups separated by single spaces or dots ("999 99 3653", "999.99.3653").
_NUMBER = re.compile(r"(?<![\d.])(?:\d[ .]?){7,9}\d(?![\d])")
_BSN_TAGS = tuple(f"{{*}}{name}" for name in ("inp.bsn", "bsn", "BSN", "burgerservicenummer"))


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Logs carry no BSNs: by pattern (any number that could be one, however grouped) and by meaning (``secrets``:
    the values of the message's BSN elements, whatever their form). All but the last two digits become ``*``."""
    for secret in secrets:
        if secret and secret in text:
            text = text.replace(secret, _hidden(secret))
    return _NUMBER.sub(lambda m: _hidden(m.group()), text)


def _hidden(value: str) -> str:
    digits = sum(c.isdigit() for c in value)
    seen = 0
    out = []
    for c in value:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits - 2 else "*")
        else:
            out.append(c)
    return "".join(out)


def masked_warnings(x: Exchange) -> list[str]:
    """The message's warnings as they may be logged (and, later, traced)."""
    if not x.warnings:
        return []
    secrets: list[str] = []
    if x.request is not None:
        for element in x.request.body.iter(*_BSN_TAGS):  # lxml filters by tag in C: no Python per element
            if element.text and element.text.strip():
                secrets.append(element.text.strip())
    return [mask(warning, secrets) for warning in x.warnings]
