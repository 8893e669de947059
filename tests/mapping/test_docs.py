"""The YAML examples in ``mappings/README.md`` use the vocabulary the engine accepts."""

from __future__ import annotations

import re

import pytest
import yaml

from stuf_bridge.mapping.model import MappingFile

from .conftest import REPO

README = (REPO / "mappings" / "README.md").read_text("utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", README, flags=re.DOTALL)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_example_is_valid_vocabulary(block: str) -> None:
    MappingFile.model_validate(yaml.safe_load(block))
