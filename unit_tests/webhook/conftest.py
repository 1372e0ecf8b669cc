"""Fixtures for the webhook receiver tests: a local folder bucket per test."""

from __future__ import annotations

import pytest


@pytest.fixture
def bucket(tmp_path):
    return tmp_path / "bucket"
