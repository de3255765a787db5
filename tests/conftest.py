"""Shared fixtures.  Real annotation files are found through VLANET_SHARED_DATA or ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    return Path(os.environ.get("VLANET_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    d = shared_data_dir()
    if not (d / "charades-sta" / "charades_sta_test.txt").is_file():
        pytest.skip(f"real annotation files not found at {d} (set VLANET_SHARED_DATA to the shared/data folder)")
    return d


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
