"""Printing the HTML report to PDF with headless Chromium (Debian package ``chromium``), if it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["CHROMIUM_NAMES", "PDF_HELP", "find_chromium", "html_to_pdf"]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """A headless-capable Chromium/Chrome: ``$SIMFUNNEL_CHROMIUM``, else the first of `CHROMIUM_NAMES` on PATH."""
    env = os.environ.get("SIMFUNNEL_CHROMIUM")
    if env:
        return env if (Path(env).is_file() or shutil.which(env)) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


PDF_HELP = (
    "a PDF needs headless Chromium, which was not found: install it (Debian/Ubuntu: `apt-get install -y chromium`; "
    "or set SIMFUNNEL_CHROMIUM to a Chrome/Chromium binary), or open the HTML report in a browser and print it "
    "to PDF"
)


def html_to_pdf(html: str | os.PathLike, pdf: str | os.PathLike, timeout: float = 180.0) -> Path:
    """Print an HTML file to PDF with headless Chromium (A4, the report's print style sheet). RuntimeError with
    installation advice when no Chromium is found or printing fails."""
    exe = find_chromium()
    if exe is None:
        raise RuntimeError(PDF_HELP)
    html, pdf = Path(html).resolve(), Path(pdf).resolve()
    pdf.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf}",
        html.as_uri(),
    ]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"printing the PDF with {exe} failed: {exc}") from None
    if proc.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
        raise RuntimeError(f"printing the PDF with {exe} failed (exit {proc.returncode}): {' | '.join(tail)}")
    return pdf
