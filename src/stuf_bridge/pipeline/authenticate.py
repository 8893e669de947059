"""Stages *authenticate* and *authenticate-token*: who sent the message (``security/``).

With clients configured (``clients:``) every SOAP request must authenticate as one of them, or it is answered with
HTTP 401 and a SOAP fault (StUF052, reason ``not-authenticated``) before anything is processed or stored:

* **authenticate** runs before the body is read: HTTP Basic, the client certificate (the gateway's own TLS, or a
  trusted proxy's header) and the client's source addresses. A request without such credentials goes on only when
  some client authenticates by UsernameToken;
* **authenticate-token** runs once the envelope is read: the WS-Security UsernameToken in the SOAP header
  (PasswordText, PasswordDigest; Created within the window, Nonce not seen before).

The authenticated client is ``x.client``: the authorise stage checks what it may do, the record stage logs its name
and the ZGW calls carry it in their audit toelichting. Without clients both stages let everything pass (the demo).
"""

from __future__ import annotations

from ..security.authenticate import Authenticator
from ..security.peer import Peer
from .exchange import Exchange, Next


class Authenticate:
    name = "authenticate"

    def __init__(self, authenticator: Authenticator | None):
        self.authenticator = authenticator

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        if self.authenticator is not None and self.authenticator.active:
            x.client = await self.authenticator.transport(x.peer or Peer())
            x.authenticating = True
        await call_next(x)


class AuthenticateToken:
    name = "authenticate-token"

    def __init__(self, authenticator: Authenticator | None):
        self.authenticator = authenticator

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        if self.authenticator is not None and x.authenticating:
            assert x.request is not None
            x.client = await self.authenticator.token(x.request.envelope, x.peer or Peer(), x.client)
        await call_next(x)
