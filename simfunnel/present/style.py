"""Presentation style of every figure: the style sheet, the colours (Okabe-Ito, fixed per scenario and per
terminal state), the decorator that draws a figure in the style, panel helpers and `save_figure`.

Settings: `STYLE` (the style figures are drawn in; None: the caller's rcParams) here, and the currency symbol
in `simfunnel.formatting.CURRENCY` (``simfunnel.formatting.CURRENCY = "€"``), which the figures read when drawn.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = [
    "GREY",
    "LIGHT",
    "OKABE_ITO",
    "PALETTE",
    "SCENARIO_COLORS",
    "STATE_COLORS",
    "STATE_LABELS",
    "STATE_ORDER",
    "STYLE",
    "SUMMARY_STATE_KEYS",
    "TEXT",
    "blank",
    "colors_for",
    "figure",
    "grid_shape",
    "no_data",
    "note",
    "presentation",
    "save_figure",
    "scenario_colors",
    "state_key",
    "title_name",
    "use_presentation_style",
]

STYLE: str | None = "simfunnel.styles.presentation"
"""Style every figure is drawn in (a matplotlib style name or path); None: the caller's rcParams."""

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO: dict[str, str] = {
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "bluish_green": "#009E73",
    "orange": "#E69F00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE: tuple[str, ...] = tuple(OKABE_ITO.values())
GREY = "#666666"
LIGHT = "#BBBBBB"
TEXT = "#333333"

SCENARIO_COLORS: dict[str, str] = {
    "siloed": OKABE_ITO["vermillion"],
    "aligned": OKABE_ITO["blue"],
    "base": "#555555",
}
"""Fixed colours of well-known scenario names; add your own (``SCENARIO_COLORS["b2c"] = "#009E73"``)."""

STATE_COLORS: dict[str, str] = {
    "won": OKABE_ITO["bluish_green"],
    "lost_to_competitor": OKABE_ITO["vermillion"],
    "too_late": OKABE_ITO["reddish_purple"],
    "too_early": OKABE_ITO["sky_blue"],
    "dropped": OKABE_ITO["orange"],
    "never_reached": "#8C8C8C",
    "open": "#D9D9D9",
}
"""Colour of each terminal state (names as in ``buyers.terminal_state``; ``lost_*`` summary keys map to them)."""

STATE_LABELS: dict[str, str] = {
    "won": "Won",
    "lost_to_competitor": "Lost to competitor",
    "too_late": "Too late",
    "too_early": "Too early",
    "dropped": "Dropped",
    "never_reached": "Never reached",
    "open": "Open at horizon",
}
"""Display label of each terminal state."""

STATE_ORDER: tuple[str, ...] = tuple(STATE_LABELS)
SUMMARY_STATE_KEYS: dict[str, str] = {
    "won": "won",
    "lost_to_competitor": "lost_to_competitor",
    "too_late": "lost_too_late",
    "too_early": "lost_too_early",
    "dropped": "lost_dropped",
    "never_reached": "lost_never_reached",
    "open": "open",
}
"""Terminal state -> its count's key in a run summary."""


# ============================================================================================== style
def use_presentation_style() -> None:
    """Make the presentation style global (``plt.style.use("simfunnel.styles.presentation")``)."""
    plt.style.use("simfunnel.styles.presentation")


def _style_context() -> Any:
    return plt.style.context(STYLE) if STYLE else nullcontext()


def _freeze_ticks(fig: Figure) -> None:
    """Create each axis' first tick now, inside the style context: later ticks copy its properties, so the
    figure keeps the style's tick sizes and colours when drawn or saved outside the context."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            axis.get_major_ticks(1)
            axis.get_minor_ticks(1)


def presentation(func: Callable[..., Figure]) -> Callable[..., Figure]:
    """Decorator: draw the figure inside the `STYLE` context (read at call time) and keep the style after it."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with _style_context():
            fig = func(*args, **kwargs)
            _freeze_ticks(fig)
        return fig

    return wrapper


# ============================================================================================== colours
def scenario_colors(names: Iterable[str]) -> dict[str, str]:
    """Colour per scenario name: the fixed `SCENARIO_COLORS` first, then the unused Okabe-Ito colours in order."""
    names = list(dict.fromkeys(str(n) for n in names))
    taken = {SCENARIO_COLORS[n] for n in names if n in SCENARIO_COLORS}
    free = [c for c in PALETTE if c not in taken and c not in SCENARIO_COLORS.values()]
    free += [c for c in PALETTE if c not in free and c not in taken]  # reuse only when exhausted
    out: dict[str, str] = {}
    i = 0
    for n in names:
        if n in SCENARIO_COLORS:
            out[n] = SCENARIO_COLORS[n]
        else:
            out[n] = free[i % len(free)] if free else PALETTE[i % len(PALETTE)]
            i += 1
    return out


def colors_for(names: Sequence[str]) -> dict[str, str]:
    """`scenario_colors` of the named entries, plus blue for the unnamed one ("": a single run)."""
    cols = scenario_colors([n for n in names if n])
    cols[""] = OKABE_ITO["blue"]
    return cols


def state_key(name: str) -> str:
    """Terminal state of a name: 'too_late' and the summary key 'lost_too_late' both give 'too_late'."""
    name = str(name)
    if name in STATE_LABELS:
        return name
    if name.startswith("lost_") and name[5:] in STATE_LABELS:
        return name[5:]
    return name


def title_name(name: str) -> str:
    """A scenario's name as a panel title ('Run' for the unnamed single run)."""
    return name if name else "Run"


# ============================================================================================== panels
def figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None, **kw: Any) -> tuple[Figure, Any]:
    """A figure and a 2-D array of its axes (always 2-D, even for one panel)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, **kw)
    return fig, axes


def blank(ax: Any, reason: str = "") -> None:
    """Turn an axes into a 'No data' panel saying why."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    msg = "No data" + (f"\n{reason}" if reason else "")
    ax.text(0.5, 0.5, msg, ha="center", va="center", fontsize=15, color=GREY, transform=ax.transAxes)


def no_data(title: str, reason: str = "", figsize: tuple[float, float] | None = None) -> Figure:
    """A one-panel figure that says 'No data' and why (figures never raise on empty input)."""
    fig, axes = figure(figsize=figsize)
    blank(axes[0, 0], reason)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def note(fig: Figure, text: str) -> None:
    """A small grey footnote (source, method) under the figure (as the figure's supxlabel, so the constrained
    layout makes room for it)."""
    fig.supxlabel(text, x=0.01, ha="left", fontsize=10, color=GREY)


def grid_shape(k: int, max_cols: int = 3) -> tuple[int, int]:
    """(rows, columns) of a grid of ``k`` small multiples."""
    ncols = min(k, max_cols)
    return math.ceil(k / ncols), ncols


# ============================================================================================== saving
def save_figure(fig: Figure, path: str | os.PathLike, dpi: int = 200, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` (.png, .svg or .pdf; parent folders created) with reproducible bytes: the same
    figure gives the same file on every run (no dates in the metadata, a fixed SVG hash salt)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"save_figure writes .png, .svg or .pdf files, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata: dict[str, Any] = {
        "png": {"Software": f"matplotlib {mpl.__version__} / simfunnel"},
        "svg": {"Date": None},
        "pdf": {"CreationDate": None, "ModDate": None},
    }[fmt]
    metadata.update(kwargs.pop("metadata", {}) or {})
    kwargs.setdefault("bbox_inches", "tight")
    kwargs.setdefault("pad_inches", 0.15)
    kwargs.setdefault("facecolor", "white")
    with mpl.rc_context({"svg.hashsalt": "simfunnel", "pdf.fonttype": 42, "svg.fonttype": "path"}):
        fig.savefig(path, format=fmt, dpi=dpi, metadata=metadata, **kwargs)
    return path
