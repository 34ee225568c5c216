"""Rendering the report: the Jinja2 template ``simfunnel/templates/report.html.j2`` (package data) to one HTML
file, written atomically so that a half-written report never replaces a good one."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["TEMPLATE", "environment", "render", "stylesheet", "write_html"]

TEMPLATE = "report.html.j2"


def environment() -> Any:
    """The Jinja2 environment of the report templates (autoescaping, undefined names are errors)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("simfunnel", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(ctx: Mapping[str, Any], template: str = TEMPLATE) -> str:
    """The HTML of `template` (default: the client report) for a template context."""
    return environment().get_template(template).render(**ctx)


def stylesheet() -> str:
    """The client report's CSS (its template's ``<style>`` element), so other documents built with this machinery
    (the fit report) look the same without a copy of it."""
    env = environment()
    source = env.loader.get_source(env, TEMPLATE)[0]
    found = re.search(r"<style>(.*?)</style>", source, re.S)
    return found.group(1) if found else ""


def write_html(html: str, path: str | os.PathLike) -> Path:
    """Write ``html`` to ``path`` (creating its folder) through a temporary file and an atomic rename."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, out)
    return out
