"""Deprecated: use `simfunnel.present.report` (the client report, rebuilt as sections). This module re-exports
its public names so that ``from simfunnel.report import build_report`` keeps working.

``LEVER_GROUPS`` is `simfunnel.vocabulary.LEVER_GROUPS`, the one grouping of the levers (report and notebooks).
"""

from __future__ import annotations

from simfunnel.present.report import (
    CHROMIUM_NAMES,
    DEFAULT_ATTRIBUTION_N,
    DEFAULT_N,
    FIGURE_DPI,
    LEVER_GROUPS,
    PDF_HELP,
    QUICK_ATTRIBUTION_N,
    QUICK_N,
    FieldComment,
    ReportInfo,
    build_report,
    build_report_info,
    field_sources,
    find_chromium,
    html_to_pdf,
    lever_groups,
    parameter_differences,
    toml_field_comments,
)

__all__ = [
    "CHROMIUM_NAMES",
    "DEFAULT_ATTRIBUTION_N",
    "DEFAULT_N",
    "FIGURE_DPI",
    "LEVER_GROUPS",
    "PDF_HELP",
    "QUICK_ATTRIBUTION_N",
    "QUICK_N",
    "FieldComment",
    "ReportInfo",
    "build_report",
    "build_report_info",
    "field_sources",
    "find_chromium",
    "html_to_pdf",
    "lever_groups",
    "parameter_differences",
    "toml_field_comments",
]
