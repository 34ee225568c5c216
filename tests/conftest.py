"""Shared test setup: a non-interactive matplotlib backend, so figure tests never open windows."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
