"""Deprecated: use `simfunnel.experiments.cache` (this module re-exports it).

Tests that replace module globals (``_PACKAGE``) must patch `simfunnel.experiments.cache` itself."""

from simfunnel.experiments.cache import (
    LABEL_FIELDS,
    MODEL_SOURCES,
    CacheLike,
    ResultCache,
    cache_enabled,
    canonical_json,
    default_cache_dir,
    invalidate_fingerprint,
    model_fingerprint,
    resolve_cache,
)

_invalidate_fingerprint = invalidate_fingerprint

__all__ = [
    "LABEL_FIELDS",
    "MODEL_SOURCES",
    "CacheLike",
    "ResultCache",
    "cache_enabled",
    "canonical_json",
    "default_cache_dir",
    "invalidate_fingerprint",
    "model_fingerprint",
    "resolve_cache",
]
