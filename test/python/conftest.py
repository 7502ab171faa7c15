"""Shared helpers of the Python tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    """Path of a console script installed next to the interpreter running the tests."""
    return str(BIN / name)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
