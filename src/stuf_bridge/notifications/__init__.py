"""ZGW notifications become StUF kennisgevingen: the callback and its inbox (``callback.py``, ``store.py``), the
worker that turns the inbox into deliveries (``processor.py``), what a subscriber is sent (``state.py``,
``messages.py``, ``delivery.py``), loop prevention (``echo.py``) and the abonnement (``subscribe.py``). Import the
modules themselves (this ``__init__`` stays empty, so that ``settings.py`` can import ``config.py`` alone)."""

from __future__ import annotations

__all__: list[str] = []
