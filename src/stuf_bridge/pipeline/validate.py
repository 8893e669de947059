"""Stage *validate*: the schema check under the sender's policy (``strict`` faults, ``warn`` records the issues as
warnings, ``off`` skips). It runs before *claim*, so a message that is refused takes no record in the store."""

from __future__ import annotations

from ..errors import MessageError
from ..settings import ValidationPolicy
from ..soap.envelope import SoapRequest
from ..stuf.stuurgegevens import Stuurgegevens, Systeem
from ..stuf.validation import Schemas
from .exchange import Environment, Exchange, Next


class Validate:
    name = "validate"

    def __init__(self, env: Environment, schemas: Schemas):
        self.env = env
        self.schemas = schemas

    async def __call__(self, x: Exchange, call_next: Next) -> None:
        assert x.request is not None and x.stuurgegevens is not None
        x.warnings.extend(self.validate(x.request, x.stuurgegevens))
        await call_next(x)

    def validate(self, request: SoapRequest, sg: Stuurgegevens) -> list[str]:
        zender = sg.zender or Systeem()
        policy = self.env.settings.validation_policy_for(zender.organisatie, zender.applicatie)
        if policy is ValidationPolicy.OFF:
            return []
        issues = self.schemas.validate(request.body)
        if not issues:
            return []
        if policy is ValidationPolicy.STRICT:
            first = issues[0]
            raise MessageError(
                f"Het bericht voldoet niet aan het schema (regel {first.line})",
                "; ".join(str(issue) for issue in issues[:5])
                + (f" (en nog {len(issues) - 5} fouten)" if len(issues) > 5 else ""),
                reason="schema-invalid",
            )
        return [f"schema: {issue}" for issue in issues]
