"""The mapping engine: declarative mapping files (``mappings/*.yaml``) turned into ZGW JSON and StUF elements.

See ``engine`` for the API and ``mappings/README.md`` for the file format.
"""

from __future__ import annotations

from .converters import REGISTRY as CONVERTERS
from .engine import Mappings, default_mapping_dir
from .errors import (
    MappedValueError,
    MappingError,
    MissingFallbackResultaat,
    RequiredMissing,
    UnknownOrganisation,
    UnknownRelation,
)
from .results import MappedObject, MappedRol, MappingContext, strip_private
from .tables import Match, RoltypeKeys, pick_roltype, valid_rsin

__all__ = [
    "CONVERTERS",
    "default_mapping_dir",
    "MappedObject",
    "MappedRol",
    "MappedValueError",
    "MappingContext",
    "MappingError",
    "Mappings",
    "Match",
    "MissingFallbackResultaat",
    "pick_roltype",
    "RequiredMissing",
    "RoltypeKeys",
    "strip_private",
    "UnknownOrganisation",
    "UnknownRelation",
    "valid_rsin",
]
