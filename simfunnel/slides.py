"""Deprecated: use `simfunnel.present.slides` (notebook -> offline reveal.js deck). Re-exports its public names."""

from simfunnel.present.slides import (
    REVEAL_VERSION,
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    TEMPLATE,
    SlidesError,
    build_slides,
    paginate,
    reveal_dir,
    split_at_headings,
    split_markdown,
)

__all__ = [
    "REVEAL_VERSION",
    "SLIDE_HEIGHT",
    "SLIDE_WIDTH",
    "TEMPLATE",
    "SlidesError",
    "build_slides",
    "paginate",
    "reveal_dir",
    "split_at_headings",
    "split_markdown",
]
