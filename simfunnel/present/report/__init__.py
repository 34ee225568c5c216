"""The client report: one self-contained HTML file (optionally a PDF) comparing scenarios, built in sections.

`build_report` runs the comparison (common random numbers), the lever attribution (two scenarios whose levers
differ) and one representative run per scenario (`runs`), builds each section's context (`sections`,
`attribution`, `figures`, `method`), renders ``simfunnel/templates/report.html.j2`` (`render`) and can print a
PDF with headless Chromium (`pdf`). Parameter sources come from the scenario files' comments (`sources`).
"""

from __future__ import annotations

from simfunnel.present.report.build import (
    DEFAULT_ATTRIBUTION_N,
    DEFAULT_N,
    QUICK_ATTRIBUTION_N,
    QUICK_N,
    ReportInfo,
    build_report,
    build_report_info,
)
from simfunnel.present.report.figures import FIGURE_DPI
from simfunnel.present.report.pdf import CHROMIUM_NAMES, PDF_HELP, find_chromium, html_to_pdf
from simfunnel.present.report.runs import lever_groups
from simfunnel.present.report.sources import FieldComment, field_sources, parameter_differences, toml_field_comments
from simfunnel.vocabulary import LEVER_GROUPS

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
