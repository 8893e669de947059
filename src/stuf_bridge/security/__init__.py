"""Who may send what: the configured clients, their authentication (HTTP Basic, WS-Security UsernameToken, client
certificates, source addresses) and authorisation (zenders, operations, zaaktypen), TLS served by the gateway, and
the internal port. See docs/security.md."""
