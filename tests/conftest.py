"""Shared test setup: a non-interactive matplotlib backend, so figure tests never open windows; and the fast lane.

`pytest -m "not slow"` is the everyday lane: it leaves out the notebooks (nbval) and the statistical validation
suite (tests/validation), which CI still runs in full.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

_SLOW_DIRS = ("validation", "notebooks")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark notebook cells and the statistical validation tests `slow` (the fast lane skips them)."""
    for item in items:
        path = Path(str(item.path))
        if path.suffix == ".ipynb" or any(part in _SLOW_DIRS for part in path.parent.parts[-2:]):
            item.add_marker(pytest.mark.slow)
