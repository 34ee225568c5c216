"""Deprecated: use `simfunnel.experiments.progress` (this module re-exports it, including ``_NoBar``)."""

from simfunnel.experiments.progress import (
    LOG_INTERVAL,
    LogBar,
    NoBar,
    in_jupyter_kernel,
    make_bar,
    progress_enabled,
    progress_mode,
)

_NoBar = NoBar

__all__ = ["LOG_INTERVAL", "LogBar", "NoBar", "in_jupyter_kernel", "make_bar", "progress_enabled", "progress_mode"]
