"""Notebook -> reveal.js slide deck that works offline: `simfunnel slides NOTEBOOK.ipynb [-o deck.html]`.

This is ``jupyter nbconvert --to slides --no-input`` with one difference that matters in front of a client:
nbconvert's reveal template loads reveal.js from a CDN (``SlidesExporter.reveal_url_prefix``, default unpkg)
*and* loads it through require.js and jQuery from cdnjs, so pointing ``reveal_url_prefix`` at a local copy is
not enough - without a network the deck stays blank. `build_slides` renders with
``simfunnel/templates/slides.html.j2``, which extends nbconvert's reveal template and inlines reveal.js (its
CSS, theme and the speaker-notes plugin) into the one HTML file, without require.js, jQuery, MathJax or
widget scripts. The deck is a single file that opens anywhere, offline.

Where reveal.js comes from (`reveal_dir`), first found wins:

1. ``reveal=`` (``--reveal``): a reveal.js folder (with ``dist/reveal.js``) or an npm tarball ``reveal.js-*.tgz``;
2. the environment variable ``SIMFUNNEL_REVEAL`` (same);
3. the cache ``~/.cache/simfunnel/reveal.js-<REVEAL_VERSION>`` (``$SIMFUNNEL_CACHE_DIR``);
4. ``npm pack reveal.js@<REVEAL_VERSION>`` (once; the npm registry must be reachable), unpacked into the cache.

Slides are 16:9 (`SLIDE_WIDTH` x `SLIDE_HEIGHT`, 1280 x 720) with one idea each. Cells with slideshow metadata
(Jupyter's "Slide type") are respected; a notebook without any (``split="auto"``) is paginated by `paginate`: a
new slide at every markdown heading of level 1 or 2, a slide per figure (with the short text just before it as
its caption) and per table, and text packed into slides by its estimated height - long markdown cells are split
at paragraphs, headings and list items, code cells with several outputs into one block per output. Continuation
slides repeat their section's heading as a small kicker. In the browser, the deck scales what still does not fit:
a figure shrinks (``object-fit: contain``) to the room left on its slide, then a slide's text and tables shrink
(``zoom``, never below half size). ``split="headings"`` is the plain split at headings (`split_at_headings`).
Code is hidden (``--no-input``); cells tagged ``remove_cell`` disappear, ``remove_input`` hide their code when
``show_input=True``, and ``remove_output`` hide their output. Math is shown as TeX source (MathJax would need
the network).
"""

from __future__ import annotations

import copy
import hashlib
import html
import math
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "REVEAL_VERSION",
    "SLIDE_HEIGHT",
    "SLIDE_WIDTH",
    "SlidesError",
    "build_slides",
    "paginate",
    "reveal_dir",
    "split_at_headings",
    "split_markdown",
]

REVEAL_VERSION = "4.6.1"
"""reveal.js release used (4.x: the major version nbconvert's reveal template is written for)."""

SLIDE_WIDTH = 1280
SLIDE_HEIGHT = 720
"""Slide size in CSS pixels (16:9); reveal.js scales the slide to the screen."""

TEMPLATE = Path(__file__).resolve().parents[1] / "templates" / "slides.html.j2"


class SlidesError(RuntimeError):
    """A deck cannot be built (missing notebook, no reveal.js); the message says what to do."""


# ============================================================================================== reveal.js
def _is_reveal(folder: Path) -> bool:
    return (folder / "dist" / "reveal.js").is_file() and (folder / "dist" / "reveal.css").is_file()


def _safe_extract(tgz: Path, dest: Path) -> None:
    with tarfile.open(tgz, "r:gz") as tar:
        members = []
        for m in tar.getmembers():
            target = (dest / m.name).resolve()
            if not str(target).startswith(str(dest.resolve())) or m.issym() or m.islnk():
                continue  # no path traversal, no links
            members.append(m)
        if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.12
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover
            tar.extractall(dest, members=members)  # noqa: S202 - members checked above


def _from_tarball(tgz: Path) -> Path:
    from simfunnel.experiments.cache import default_cache_dir

    digest = hashlib.sha256(tgz.read_bytes()).hexdigest()[:16]
    dest = default_cache_dir() / f"reveal.js-tgz-{digest}"
    if not _is_reveal(dest / "package"):
        tmp = Path(tempfile.mkdtemp(prefix=".reveal-", dir=_ensure(dest.parent)))
        try:
            _safe_extract(tgz, tmp)
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp, dest)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return dest / "package"


def _ensure(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _resolve(spec: str | os.PathLike) -> Path:
    p = Path(spec).expanduser()
    if p.is_file() and p.name.endswith((".tgz", ".tar.gz")):
        return _from_tarball(p)
    for cand in (p, p / "package"):
        if _is_reveal(cand):
            return cand
    raise SlidesError(f"{p} is not a reveal.js folder (no dist/reveal.js) nor an npm tarball (reveal.js-*.tgz)")


def reveal_dir(reveal: str | os.PathLike | None = None, *, fetch: bool = True) -> Path:
    """The folder of a reveal.js release (see the module docstring for the search order)."""
    if reveal is not None:
        return _resolve(reveal)
    env = os.environ.get("SIMFUNNEL_REVEAL")
    if env:
        return _resolve(env)
    from simfunnel.experiments.cache import default_cache_dir

    cached = default_cache_dir() / f"reveal.js-{REVEAL_VERSION}" / "package"
    if _is_reveal(cached):
        return cached
    npm = shutil.which("npm")
    if not fetch or npm is None:
        raise SlidesError(
            f"reveal.js {REVEAL_VERSION} is needed once to build offline slides and was not found. Get it with "
            f"`npm pack reveal.js@{REVEAL_VERSION}` on a machine with npm and pass the tarball with "
            "--reveal reveal.js-*.tgz (or set SIMFUNNEL_REVEAL), or install npm and run again"
        )
    with tempfile.TemporaryDirectory() as tmp:
        try:
            proc = subprocess.run(
                [npm, "pack", f"reveal.js@{REVEAL_VERSION}", "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SlidesError(f"`npm pack reveal.js@{REVEAL_VERSION}` failed: {exc}") from None
        tgz = next(Path(tmp).glob("reveal.js-*.tgz"), None)
        if proc.returncode != 0 or tgz is None:
            msg = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no tarball"]
            raise SlidesError(f"`npm pack reveal.js@{REVEAL_VERSION}` failed: {msg[0]}")
        work = Path(tempfile.mkdtemp(prefix=".reveal-", dir=_ensure(cached.parent.parent)))
        try:
            _safe_extract(tgz, work)
            if cached.parent.exists():
                shutil.rmtree(cached.parent)
            os.replace(work, cached.parent)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
    if not _is_reveal(cached):
        raise SlidesError(f"the reveal.js tarball did not contain dist/reveal.js (looked in {cached})")
    return cached


def _read_asset(path: Path, kind: str) -> str:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"/[/*]# sourceMappingURL=[^\n*]*(\*/)?", "", text)
    if kind == "js":
        return text.replace("</script", "<\\/script")
    # theme fonts are separate files (@import url(./fonts/...)): drop them, the theme falls back to Helvetica
    text = re.sub(r"@import url\((?!data:)[^)]*\);?", "", text)
    return text.replace("</style", "<\\/style")


def _assets(folder: Path, theme: str) -> dict[str, str]:
    theme_css = folder / "dist" / "theme" / f"{theme}.css"
    if not theme_css.is_file():
        themes = sorted(p.stem for p in (folder / "dist" / "theme").glob("*.css"))
        raise SlidesError(f"unknown reveal.js theme {theme!r}; available: {', '.join(themes)}")
    notes = folder / "plugin" / "notes" / "notes.js"
    return {
        "reveal_css": _read_asset(folder / "dist" / "reveal.css", "css"),
        "theme_css": _read_asset(theme_css, "css"),
        "reveal_js": _read_asset(folder / "dist" / "reveal.js", "js"),
        "notes_js": _read_asset(notes, "js") if notes.is_file() else "",
    }


# ============================================================================================== slides
def _has_slide_metadata(nb: Any) -> bool:
    return any(c.get("metadata", {}).get("slideshow", {}).get("slide_type") for c in nb.cells)


_HEADING = re.compile(r"^\s{0,3}#{1,2}\s+\S")


def split_at_headings(nb: Any) -> Any:
    """A copy of ``nb`` where each markdown cell starting with a level-1/2 heading (and the first cell) starts a
    new slide; every other cell continues the current one."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else src
        starts = i == 0 or (cell.get("cell_type") == "markdown" and bool(_HEADING.match(src)))
        cell.setdefault("metadata", {}).setdefault("slideshow", {})["slide_type"] = "slide" if starts else "-"
    return nb


# ---------------------------------------------------------------------------------------------- pagination
# Layout estimates in slide pixels, matching the CSS of templates/slides.html.j2 (24 px text, 18 px code).
_TEXT_LINE, _TEXT_CHARS, _PARAGRAPH_GAP = 34.0, 95, 18.0
_BUDGET = 590.0  # content height a slide holds (720 minus reveal's margin, the padding and a safety margin)
_FIGURE_MIN = 380.0  # a figure shares its slide only with text shorter than _BUDGET - _FIGURE_MIN (a caption)
_CAPTION = _BUDGET - 300.0  # text before a figure this short moves with it (the figure shrinks to >= 300 px)
_CODE_LINE, _CODE_CHARS = 27.0, 100
_TABLE_ROW, _TABLE_HEAD = 31.0, 20.0
_HEADING_PX = {1: 72.0, 2: 62.0, 3: 52.0}
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_ITEM = re.compile(r"^\s{0,3}([-*+]|\d{1,9}[.)])\s+")
_ANY_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+\S")
_INLINE = re.compile(r"\[([^\]]*)\]\([^)]*\)|[*_`]+|<[^>]+>")
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def split_markdown(text: str) -> list[str]:
    """The blocks of a markdown text: each heading, paragraph, list and fenced code block (split at blank lines
    outside code fences; an indented block after a list stays with the list)."""
    blocks: list[str] = []
    cur: list[str] = []
    fenced = False

    def flush() -> None:
        if cur:
            block = "\n".join(cur)
            if blocks and cur[0].startswith(("  ", "\t")) and _ITEM.match(blocks[-1].splitlines()[0]):
                blocks[-1] += "\n\n" + block  # a list item's continuation paragraph
            else:
                blocks.append(block)
            cur.clear()

    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and not line.strip():
            flush()
            continue
        elif not fenced and _ANY_HEADING.match(line):
            flush()
            blocks.append(line)
            continue
        cur.append(line)
    flush()
    return blocks


def _wrapped_lines(text: str, chars: int) -> int:
    return sum(max(1, math.ceil(len(line) / chars)) for line in text.splitlines() or [""])


def _markdown_height(block: str) -> float:
    heading = _ANY_HEADING.match(block)
    if heading:
        return _HEADING_PX.get(len(heading.group(1)), 46.0)
    if _FENCE.match(block):
        return _wrapped_lines(block, _CODE_CHARS) * _CODE_LINE + _PARAGRAPH_GAP
    plain = _INLINE.sub(lambda m: m.group(1) or "", block)
    if _ITEM.match(plain):  # a list: each item wraps on its own
        items = re.split(r"\n(?=\s{0,3}(?:[-*+]|\d{1,9}[.)])\s)", plain)
        lines = sum(max(1, math.ceil(len(" ".join(i.split())) / (_TEXT_CHARS - 4))) for i in items)
    else:
        lines = max(1, math.ceil(len(" ".join(plain.split())) / _TEXT_CHARS))
    return lines * _TEXT_LINE + _PARAGRAPH_GAP


def _split_long_list(block: str) -> list[str]:
    """A list taller than a slide, cut between items into pieces that fit."""
    if _markdown_height(block) <= _BUDGET or not _ITEM.match(block):
        return [block]
    items = re.split(r"\n(?=\s{0,3}(?:[-*+]|\d{1,9}[.)])\s)", block)
    pieces: list[str] = []
    for item in items:
        if pieces and _markdown_height(pieces[-1] + "\n" + item) <= _BUDGET:
            pieces[-1] += "\n" + item
        else:
            pieces.append(item)
    return pieces


def _output_block(output: Any) -> tuple[str, float]:
    """(kind, estimated height) of one output: ``figure``, ``table`` or ``text``."""
    data = output.get("data", {})
    if any(k in data for k in _IMAGE_TYPES):
        return "figure", _FIGURE_MIN
    html = data.get("text/html", "")
    html = "".join(html) if isinstance(html, list) else html
    if "<table" in html:
        return "table", _TABLE_HEAD + html.count("<tr") * _TABLE_ROW
    if html or "text/markdown" in data:
        text = html or data["text/markdown"]
        text = re.sub(r"<style.*?</style>|<[^>]+>", " ", "".join(text) if isinstance(text, list) else text, flags=re.S)
        return "text", _markdown_height(" ".join(text.split()))
    text = output.get("text") or data.get("text/plain") or "".join(output.get("traceback", []))
    text = "".join(text) if isinstance(text, list) else text
    return "text", _wrapped_lines(text.rstrip("\n"), _CODE_CHARS) * _CODE_LINE + _PARAGRAPH_GAP


@dataclass
class _Block:
    kind: str  # heading, text, figure, table
    cell: Any
    height: float
    level: int = 0
    title: str = ""


def _code_blocks(cell: Any, show_input: bool) -> list[_Block]:
    """A code cell as blocks: its code (with ``show_input``) and one block per output."""
    import nbformat

    tags = list(cell.get("metadata", {}).get("tags", []))
    has_input = show_input and "remove_input" not in tags and _source(cell).strip()
    outputs = [] if "remove_output" in tags else list(cell.get("outputs", []))
    if len(outputs) <= 1 and not (has_input and outputs):
        height = _wrapped_lines(_source(cell), _CODE_CHARS) * _CODE_LINE + _PARAGRAPH_GAP if has_input else 0.0
        kind, out_h = _output_block(outputs[0]) if outputs else ("text", 0.0)
        return [_Block(kind if outputs else "text", cell, height + out_h)]
    blocks = []
    if has_input:
        code = copy.deepcopy(cell)
        code["outputs"] = []
        blocks.append(_Block("text", code, _wrapped_lines(_source(cell), _CODE_CHARS) * _CODE_LINE + _PARAGRAPH_GAP))
    for output in outputs:
        part = nbformat.v4.new_code_cell(_source(cell), metadata=copy.deepcopy(cell.get("metadata", {})))
        part.metadata["tags"] = [*tags, "remove_input"]
        part.outputs = [output]
        kind, height = _output_block(output)
        blocks.append(_Block(kind, part, height))
    return blocks


def _blocks(nb: Any, show_input: bool) -> list[_Block]:
    """Every kept cell of ``nb`` cut into blocks (markdown at paragraphs, code at outputs)."""
    import nbformat

    out: list[_Block] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        if "remove_cell" in meta.get("tags", []) or cell.get("cell_type") == "raw":
            continue
        if cell.get("cell_type") == "code":
            out += _code_blocks(cell, show_input)
            continue
        for block in split_markdown(_source(cell)):
            for piece in _split_long_list(block):
                md = nbformat.v4.new_markdown_cell(piece, metadata=copy.deepcopy(meta))
                md.pop("attachments", None)
                if cell.get("attachments"):
                    md["attachments"] = cell["attachments"]
                heading = _ANY_HEADING.match(piece)
                level = len(heading.group(1)) if heading else 0
                title = _INLINE.sub(lambda m: m.group(1) or "", piece.lstrip(" #")).strip() if heading else ""
                out.append(_Block("heading" if heading else "text", md, _markdown_height(piece), level, title))
    return out


def _is_caption(block: _Block, before: _Block) -> bool:
    """A short markdown paragraph (the text just before a figure, read with it; with its heading, if any)."""
    height = block.height + (before.height if before.kind == "heading" else 0.0)
    return block.kind == "text" and block.cell.get("cell_type") == "markdown" and height <= _CAPTION


def _pack(blocks: list[_Block]) -> list[list[_Block]]:
    """Blocks into slides: a new slide at each level-1/2 heading, after a figure or a table, and where the text
    would overflow; a figure takes the room its slide has left (so it needs at least `_FIGURE_MIN`)."""
    slides: list[list[_Block]] = []
    cur: list[_Block] = []
    used, closed = 0.0, False

    def start_new(figure: bool = False) -> None:
        nonlocal cur, used, closed
        carried: list[_Block] = []
        if figure and len(cur) > 1 and _is_caption(cur[-1], cur[-2]):  # a figure takes its caption along
            carried.insert(0, cur.pop())
        while cur and cur[-1].kind == "heading" and len(cur) > 1:  # a heading goes with what follows it
            carried.insert(0, cur.pop())
        if cur:
            slides.append(cur)
        cur, used, closed = carried, sum(b.height for b in carried), False

    for b in blocks:
        if b.height <= 0 and cur:  # renders nothing (a hidden cell without output)
            cur.append(b)
            continue
        if (b.kind == "heading" and b.level <= 2) or closed:
            start_new()
        need = _FIGURE_MIN if b.kind == "figure" else min(b.height, _BUDGET)
        if any(x.height > 0 and x.kind != "heading" for x in cur) and used + need > _BUDGET:
            start_new(figure=b.kind == "figure")
        cur.append(b)
        used += _BUDGET if b.kind == "figure" else b.height
        closed = b.kind in ("figure", "table")
    start_new()
    return slides


def paginate(nb: Any, *, show_input: bool = False) -> Any:
    """A copy of ``nb`` cut into 16:9 slides (one idea per slide; see the module docstring): slideshow metadata
    marks each slide's first cell, ``data-sf-kind`` (figure, table, text) its section."""
    import nbformat

    nb = copy.deepcopy(nb)
    slides = _pack(_blocks(nb, show_input))
    cells: list[Any] = []
    section = ""
    for slide in slides:
        first = slide[0]
        if first.kind == "heading" and first.level <= 2:
            section = first.title
        elif section:  # a continuation slide: the section's heading as a kicker
            kicker = nbformat.v4.new_markdown_cell(f'<p class="sf-kicker">{html.escape(section)}</p>')
            slide = [_Block("text", kicker, 30.0), *slide]
        kinds = {b.kind for b in slide}
        kind = "figure" if "figure" in kinds else "table" if "table" in kinds else "text"
        for i, block in enumerate(slide):
            show = block.cell.setdefault("metadata", {}).setdefault("slideshow", {})
            show["slide_type"] = "slide" if i == 0 else "-"
            if i == 0:
                show["data"] = {"sf_kind": kind}
            cells.append(block.cell)
    nb.cells = cells
    return nb


def build_slides(
    notebook: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    reveal: str | os.PathLike | None = None,
    show_input: bool = False,
    theme: str = "white",
    split: str = "auto",
    transition: str = "slide",
) -> Path:
    """Convert ``notebook`` to a single-file reveal.js deck (default ``NOTEBOOK.slides.html``); returns its path.

    ``show_input``: keep code cells (default: hidden, as ``--no-input``). ``split``: ``"auto"`` (slideshow
    metadata if the notebook has any, else `paginate`: a slide per figure, per table and per short block of
    text), ``"metadata"`` or ``"headings"`` (`split_at_headings`: a slide per level-1/2 heading, however long).
    ``reveal``: a reveal.js folder or tarball (see `reveal_dir`). The notebook is converted as stored (outputs
    are not recomputed)."""
    try:
        import nbformat
        from nbconvert import SlidesExporter
        from traitlets.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SlidesError(f"slides need nbconvert: pip install 'simfunnel[notebooks]' ({exc})") from None

    src = Path(notebook)
    if not src.is_file():
        raise SlidesError(f"{src}: notebook not found")
    if split not in ("auto", "metadata", "headings"):
        raise SlidesError(f"split must be 'auto', 'metadata' or 'headings', got {split!r}")
    out = Path(output) if output is not None else src.with_name(src.stem + ".slides.html")
    try:
        nb = nbformat.read(src, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable notebook is one message
        raise SlidesError(f"{src}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    if split == "headings":
        nb = split_at_headings(nb)
    elif split == "auto" and not _has_slide_metadata(nb):
        nb = paginate(nb, show_input=show_input)
    assets = _assets(reveal_dir(reveal), theme)

    c = Config()
    c.TemplateExporter.exclude_input = not show_input
    c.TemplateExporter.exclude_input_prompt = True
    c.TemplateExporter.exclude_output_prompt = True
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {"remove_cell"}
    c.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output"}
    c.SlidesExporter.reveal_theme = theme
    c.SlidesExporter.reveal_transition = transition
    c.SlidesExporter.reveal_scroll = False  # slides fit (figures and text scale), they never scroll
    c.SlidesExporter.reveal_width = str(SLIDE_WIDTH)
    c.SlidesExporter.reveal_height = str(SLIDE_HEIGHT)
    c.SlidesExporter.reveal_url_prefix = "reveal.js"  # unused: the template inlines reveal.js
    exporter = SlidesExporter(config=c, template_file=str(TEMPLATE))
    resources = {
        "metadata": {"name": src.stem, "path": str(src.parent)},
        "simfunnel_reveal": assets,
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, out)
    return out
