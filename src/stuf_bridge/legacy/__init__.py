"""The legacy side: a ZDS zaaksysteem that keeps running beside ZGW during a migration (README, Side by side).

``config.py`` holds the ``legacy:`` settings, ``client.py`` the one HTTP client towards it, ``answers.py`` how its
answers are read, ``errors.py`` the gateway faults for a legacy side that gives no usable answer, and ``proxy.py``
the proxy mode: the client's request bytes to legacy, legacy's answer bytes back.
"""

__all__: list[str] = []  # import from the modules; the package itself exports nothing
