"""The routing table of side-by-side operation: which messages go to ZGW (translate), to the legacy zaaksysteem
(proxy) or to both (replicate), per operation, zender and zaaktype, with each zaak kept on the route it was
created under.

* ``config.py``: ``RoutingSettings``, the ``routing:`` section of the settings, checked when they are read;
* ``rules.py``: the table compiled to sets, first match wins;
* ``registry.py``: the zaak registry in the store (a zaak's pinned route, a document's zaak);
* ``router.py``: ``RuleRouter``, the route stage's router (``pipeline/route.py``), which finds the zaaktype.

Nothing is imported here: ``settings.py`` reads ``config.py``, and the router needs the ZGW client, which needs the
settings.
"""

__all__: list[str] = []
