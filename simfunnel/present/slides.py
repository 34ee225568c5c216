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

Slides: cells with slideshow metadata (Jupyter's "Slide type") are respected; a notebook without any
(``split="auto"``) gets a new slide at every markdown heading of level 1 or 2. Code is hidden (``--no-input``);
cells tagged ``remove_cell`` disappear, ``remove_input`` hide their code when ``show_input=True``, and
``remove_output`` hide their output. Math is shown as TeX source (MathJax would need the network).
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["REVEAL_VERSION", "SlidesError", "build_slides", "reveal_dir"]

REVEAL_VERSION = "4.6.1"
"""reveal.js release used (4.x: the major version nbconvert's reveal template is written for)."""

TEMPLATE = Path(__file__).resolve().parent / "templates" / "slides.html.j2"


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
    from simfunnel.cache import default_cache_dir

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
    from simfunnel.cache import default_cache_dir

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
    metadata if the notebook has any, else headings), ``"metadata"`` or ``"headings"``. ``reveal``: a reveal.js
    folder or tarball (see `reveal_dir`). The notebook is converted as stored (outputs are not recomputed)."""
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
    if split == "headings" or (split == "auto" and not _has_slide_metadata(nb)):
        nb = split_at_headings(nb)
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
    c.SlidesExporter.reveal_scroll = True
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
