"""Stage *handle*: the message's flow, chosen by the route's mode. ``translate`` runs the operation's handler from
``operations/`` (keyed by the registry's dialect-free function name) with the flow context; a handler that returns
nothing is answered with the operation's acknowledgement (Bv02/Bv03). A mode without an implementation, or an
operation without a handler, is StUF040."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from ..errors import NotSupported
from ..operations import Handler
from ..stuf.answers import bevestiging
from .exchange import Exchange, Next
from .route import Mode

ModeHandler = Callable[[Exchange], Awaitable[None]]


class Handle:
    name = "handle"

    def __init__(self, handlers: Mapping[str, Handler], modes: Mapping[Mode, ModeHandler] | None = None):
        self.handlers = dict(handlers)
        self.modes: dict[Mode, ModeHandler] = {Mode.TRANSLATE: self.translate, **(modes or {})}

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        assert x.route is not None
        own = x.env.modes  # a tenant's own proxy and replicate (its legacy side, or none), else the gateway's
        mode = x.route.mode
        run = own.get(mode) if own is not None and mode is not Mode.TRANSLATE else self.modes.get(mode)
        if run is None:
            raise NotSupported(
                f"Route {x.route.mode.value} wordt (nog) niet ondersteund",
                f"Regel {x.route.rule!r} stuurt dit bericht naar {x.route.mode.value}; die modus is niet ingericht.",
                reason="mode-not-supported",
            )
        await run(x)
        await call_next(x)

    async def translate(self, x: Exchange) -> None:
        op = x.operation
        assert op is not None
        handler = self.handlers.get(op.function)
        if handler is None:
            raise NotSupported(
                f"Operatie {op.name} wordt (nog) niet ondersteund",
                f"stuf-bridge herkent {op.name} (ZDS {op.dialect.value}) maar voert deze operatie nog niet uit.",
            )
        ctx = x.context
        answer = await handler(ctx)
        x.answer = answer if answer is not None else bevestiging(op.response_kind, ctx.parties)
