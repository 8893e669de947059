"""Business rules shared by the APIs, each with the stable code Open Zaak gives it."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from .problems import InvalidParam, ValidationFailed


class Errors:
    """Collects invalid params; ``raise_if_any`` ends the request with a 400."""

    def __init__(self) -> None:
        self.params: list[InvalidParam] = []

    def add(self, name: str, code: str, reason: str) -> None:
        self.params.append(InvalidParam(name, code, reason))

    def extend(self, params: Iterable[InvalidParam]) -> None:
        self.params.extend(params)

    def __bool__(self) -> bool:
        return bool(self.params)

    def raise_if_any(self) -> None:
        if self.params:
            raise ValidationFailed(self.params)


def rsin_error(value: str) -> tuple[str, str] | None:
    """The 11-test of vng-api-common's ``validate_rsin``: (code, reason) or None when valid."""
    if not value.isdigit() or not value.isascii():
        return "only-digits", "Waarde moet numeriek zijn."
    if len(value) != 9:
        return "invalid-length", "RSIN moet 9 tekens lang zijn."
    total = sum((-1 if i == 1 else i) * int(c) for i, c in enumerate(reversed(value), start=1))
    if total % 11:
        return "invalid", "Onjuist RSIN nummer."
    return None


def check_rsin(errors: Errors, name: str, value: str | None) -> None:
    if value:
        problem = rsin_error(value)
        if problem:
            errors.add(name, *problem)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are UTC, as in Open Zaak (TIME_ZONE = "UTC")."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_datetime(value: datetime) -> str:
    text = as_utc(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def check_not_future_datetime(errors: Errors, name: str, value: datetime | None, code: str) -> None:
    """``DateNotInFutureValidator`` (code ``date-in-future``) / ``UntilNowValidator`` (``future_not_allowed``)."""
    if value is not None and as_utc(value) > utcnow():
        errors.add(name, code, "Deze datum mag niet in de toekomst zijn.")


def check_not_future_date(errors: Errors, name: str, value: date | None, code: str = "future_not_allowed") -> None:
    if value is not None and value > utcnow().date():
        errors.add(name, code, "Deze datum mag niet in de toekomst zijn.")


_DURATION_PARTS = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T.*)?$")


def add_duration(start: date, duration: str) -> date | None:
    """``start`` plus an ISO 8601 duration in years, months, weeks and days (times are ignored); None if unreadable."""
    m = _DURATION_PARTS.match(duration or "")
    if not m:
        return None
    years, months, weeks, days = (int(g or 0) for g in m.groups())
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(weeks=weeks, days=days)


def sortable(value: datetime) -> str:
    """A fixed-width UTC text form, so that SQL ordering and equality follow time."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
