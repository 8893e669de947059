"""JWT authentication as Open Zaak does it: HS256 tokens per client id, every failure a 403.

Codes: ``permission_denied`` (no token), ``jwt-decode-error``, ``missing-client-identifier``,
``invalid-client-identifier``, ``invalid-jwt-signature``, ``jwt-missing-iat-claim``, ``jwt-expired`` (as
vng-api-common/Open Zaak) and ``jwt-iat-in-future`` (``iat`` later than now + leeway; Open Zaak refuses such a token
through PyJWT's own ``iat`` check).
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from starlette.requests import Request

from .problems import PermissionDenied


async def authenticate(request: Request) -> dict[str, Any]:
    """FastAPI dependency: the verified claims of the bearer token."""
    config = request.app.state.zgw.config
    header = request.headers.get("authorization", "")
    if not header.startswith("Bearer "):
        raise PermissionDenied()
    token = header[len("Bearer "):].strip()
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise PermissionDenied("JWT could not be decoded. Possibly you made a copy-paste mistake.",
                               code="jwt-decode-error") from None
    client_id = unverified.get("client_id")
    if client_id is None:
        try:
            client_id = jwt.get_unverified_header(token).get("client_identifier")
        except jwt.PyJWTError:
            client_id = None
    if not client_id:
        raise PermissionDenied("Client identifier is niet aanwezig in JWT", code="missing-client-identifier")
    secret = config.secret_for(str(client_id))
    if secret is None:
        raise PermissionDenied("Client identifier bestaat niet", code="invalid-client-identifier")
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], leeway=config.jwt_leeway,
            options={"verify_iat": False, "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise PermissionDenied("The JWT used for this request is expired", code="jwt-expired") from None
    except jwt.InvalidSignatureError:
        raise PermissionDenied("Client credentials zijn niet geldig", code="invalid-jwt-signature") from None
    except jwt.PyJWTError as exc:
        raise PermissionDenied(f"JWT could not be validated: {exc}", code="jwt-decode-error") from None

    iat = claims.get("iat")
    if iat is None:
        raise PermissionDenied("The JWT is mising the 'iat' claim.", code="jwt-missing-iat-claim")
    try:
        iat = float(iat)
    except (TypeError, ValueError):
        raise PermissionDenied("The 'iat' claim is not a number.", code="jwt-decode-error") from None
    age = time.time() - iat
    if age < -config.jwt_leeway:
        raise PermissionDenied("The JWT used for this request is not valid yet: 'iat' lies in the future.",
                               code="jwt-iat-in-future")
    if config.jwt_expiry is not None and age >= config.jwt_expiry + config.jwt_leeway:
        raise PermissionDenied("The JWT used for this request is expired", code="jwt-expired")
    claims.setdefault("client_id", client_id)
    return claims
