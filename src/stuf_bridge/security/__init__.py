"""Who may send what: the configured clients, their authentication (HTTP Basic, WS-Security UsernameToken, client
certificates, source addresses) and authorisation (zenders, operations, zaaktypen), TLS served by the gateway, and
the internal port. See docs/security.md.

* ``config.py``: ``ClientSettings``, ``SecuritySettings``, ``BackendTls``, ``OAuth2Settings`` (read by the settings);
* ``authenticate.py``: the ``Authenticator`` the authenticate stages use (``pipeline/authenticate.py``);
* ``passwords.py``, ``wsse.py``, ``nonces.py``, ``identity.py``: argon2 hashes, UsernameTokens, the nonces in the
  store, certificate subjects;
* ``audit.py``: who a ZGW write is done for (``X-Audit-Toelichting``);
* ``web.py``, ``serving.py``: the HTTP protocol (timeouts, client certificates), the internal port's guard, the
  start-up checks.

Nothing is imported here: ``settings.py`` reads ``config.py``, and the rest needs the settings.
"""

__all__: list[str] = []
