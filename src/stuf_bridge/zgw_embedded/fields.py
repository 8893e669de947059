"""Field types for request bodies: pydantic annotations that fail with the codes Open Zaak uses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise PydanticCustomError("null_characters_not_allowed", "Null-tekens zijn niet toegestaan.")
    if "\uffff" in value:  # the reference marker of the store (see refs.py)
        raise PydanticCustomError("invalid", "Het teken U+FFFF is niet toegestaan.")
    return value


def _clean_json(value: Any) -> Any:
    """Free-form JSON (geometry, object data): the same character rules, all the way down."""
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(str(key))
            _clean_json(item)
    elif isinstance(value, list):
        for item in value:
            _clean_json(item)
    return value


FreeJson = Annotated[dict[str, Any], AfterValidator(_clean_json)]


def _url(value: str) -> str:
    _no_nul(value)
    if value == "":
        return value
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise PydanticCustomError("invalid", "Voer een geldige URL in.")
    return value


@dataclass(frozen=True)
class Txt(annotated_types.GroupedMetadata):
    """``Annotated[str, Txt(80)]``: a text field with DRF-like length checks and no NUL characters."""

    max_length: int | None = None
    min_length: int | None = None
    pattern: str | None = None

    def __iter__(self) -> Iterator[Any]:
        if self.max_length is not None:
            yield annotated_types.MaxLen(self.max_length)
        if self.min_length is not None:
            yield annotated_types.MinLen(self.min_length)
        if self.pattern is not None:
            yield Field(pattern=self.pattern)
        yield AfterValidator(_no_nul)


@dataclass(frozen=True)
class Link(annotated_types.GroupedMetadata):
    """``Annotated[str, Link()]``: a URL field (``format: uri``); ``""`` passes, as blank URLs do in Open Zaak."""

    max_length: int = 1000
    min_length: int | None = None

    def __iter__(self) -> Iterator[Any]:
        yield annotated_types.MaxLen(self.max_length)
        if self.min_length is not None:
            yield annotated_types.MinLen(self.min_length)
        yield AfterValidator(_url)
        yield Field(json_schema_extra={"format": "uri"})


Text = Annotated[str, Txt()]
Url = Annotated[str, Link()]
_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise PydanticCustomError("invalid", "Ongeldige duur; gebruik ISO 8601, bijvoorbeeld P30D.")
    return value


Duration = Annotated[str, AfterValidator(_duration), Field(json_schema_extra={"format": "duration"})]


def _utc_ok(value: datetime) -> datetime:
    try:
        (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
    except (OverflowError, ValueError):
        raise PydanticCustomError("invalid", "Datum/tijd buiten het bereik.") from None
    return value


Moment = Annotated[datetime, AfterValidator(_utc_ok)]


class Body(BaseModel):
    """Base of every request body: unknown and read-only fields are ignored, as Django REST framework does."""

    model_config = ConfigDict(extra="ignore")

    def given(self) -> set[str]:
        return set(self.model_fields_set)


RSIN_RE = re.compile(r"^[0-9]{9}$")
