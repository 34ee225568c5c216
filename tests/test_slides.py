"""`simfunnel slides`: a notebook becomes one offline reveal.js deck (reveal.js inlined, code hidden) of 16:9
slides with one idea each; every slide of every notebook's deck fits 1280 x 720 in headless Chromium."""

from __future__ import annotations

import base64
import html as htmllib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import nbformat
import pytest

from simfunnel.cli import main
from simfunnel.present.slides import (
    SLIDE_HEIGHT,
    SLIDE_WIDTH,
    SlidesError,
    build_slides,
    paginate,
    reveal_dir,
    split_at_headings,
    split_markdown,
)

ROOT = Path(__file__).resolve().parents[1]

# A stand-in for a reveal.js release: the files the deck inlines, with markers to find them in the output.
FAKE_REVEAL = {
    "dist/reveal.js": "/* FAKE-REVEAL-JS */ window.Reveal = {initialize: function () {}, on: function () {}};\n"
    "//# sourceMappingURL=reveal.js.map\n",
    "dist/reveal.css": "/* FAKE-REVEAL-CSS */ .reveal { color: black; }",
    "dist/theme/white.css": "@import url(./fonts/source-sans-pro/source-sans-pro.css);\n/* FAKE-THEME-WHITE */",
    "dist/theme/black.css": "/* FAKE-THEME-BLACK */",
    "plugin/notes/notes.js": "/* FAKE-NOTES */ window.RevealNotes = {}; var s = '</script>';",
}
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture
def fake_reveal(tmp_path):
    root = tmp_path / "reveal.js"
    for rel, text in FAKE_REVEAL.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("SECRET_CODE = 1\nplot()", execution_count=1)
    code.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="profit 3.1M\n"),
    ]
    hidden = nbformat.v4.new_code_cell("HIDDEN_CELL = 2", metadata={"tags": ["remove_cell"]})
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Siloed vs aligned\nWhy alignment pays."),
        code,
        hidden,
        nbformat.v4.new_markdown_cell("## The levers\nWhich lever matters most."),
        nbformat.v4.new_markdown_cell("Some more text on the same slide."),
    ]
    path = tmp_path / "deck.ipynb"
    nbformat.write(nb, path)
    return path


def _slides(html: str) -> int:
    """Horizontal slides: nbconvert wraps each in an outer <section> holding its (vertical) sub-slide sections."""
    return len(re.findall(r"<section\b", html)) // 2


def test_offline_deck_from_a_notebook(tmp_path, notebook, fake_reveal):
    out = build_slides(notebook, tmp_path / "out" / "deck.html", reveal=fake_reveal)
    html = out.read_text(encoding="utf-8")
    assert sorted(p.name for p in out.parent.iterdir()) == ["deck.html"]  # one file, nothing beside it
    for marker in ("FAKE-REVEAL-JS", "FAKE-REVEAL-CSS", "FAKE-THEME-WHITE", "FAKE-NOTES"):
        assert marker in html
    assert "sourceMappingURL" not in html and "@import url(./fonts" not in html
    assert "'<\\/script>'" in html  # inlined scripts cannot close their <script> early
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"'$]*)["']""", html)
    assert not [r for r in refs if r.startswith(("http:", "https:", "//"))]
    assert "require(" not in html and "unpkg.com" not in html and "cdnjs" not in html
    assert "Reveal.initialize" in html
    # content: outputs kept, code hidden, tagged cell removed, one slide per heading
    assert f"data:image/png;base64,{PNG}" in html and "profit 3.1M" in html
    assert "SECRET_CODE" not in html and "HIDDEN_CELL" not in html
    assert "Siloed vs aligned" in html and "Some more text" in html
    # heading + text + figure; the printed line after the figure; the second heading and its text
    assert _slides(html) == 3
    assert re.findall(r'<section data-sf-kind="(\w+)"', html)[::2] == ["figure", "text", "text"]  # outer+inner
    assert f"width: {SLIDE_WIDTH}," in html and f"height: {SLIDE_HEIGHT}," in html
    headings = build_slides(notebook, tmp_path / "h.html", reveal=fake_reveal, split="headings")
    assert _slides(headings.read_text(encoding="utf-8")) == 2  # the plain split: one slide per heading


def test_show_input_theme_and_metadata_split(tmp_path, notebook, fake_reveal):
    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        cell.metadata["slideshow"] = {"slide_type": "slide"}
    nbformat.write(nb, notebook)
    out = build_slides(notebook, reveal=fake_reveal, show_input=True, theme="black")
    assert out == notebook.with_name("deck.slides.html")
    html = out.read_text(encoding="utf-8")
    assert "SECRET_CODE" in html and "HIDDEN_CELL" not in html
    assert "FAKE-THEME-BLACK" in html and "FAKE-THEME-WHITE" not in html
    assert _slides(html) == 4  # every kept cell is its own slide (metadata respected)
    with pytest.raises(SlidesError, match="unknown reveal.js theme"):
        build_slides(notebook, reveal=fake_reveal, theme="nope")


def test_split_at_headings_marks_slides(notebook):
    nb = split_at_headings(nbformat.read(notebook, as_version=4))
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "-", "-", "slide", "-"]


def test_reveal_from_npm_tarball(tmp_path, fake_reveal, monkeypatch):
    monkeypatch.setenv("SIMFUNNEL_CACHE_DIR", str(tmp_path / "cache"))
    tgz = tmp_path / "reveal.js-4.6.1.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for rel, text in FAKE_REVEAL.items():
            data = text.encode()
            info = tarfile.TarInfo(f"package/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    folder = reveal_dir(tgz)
    assert (folder / "dist" / "reveal.js").read_text().startswith("/* FAKE-REVEAL-JS")
    assert folder.is_relative_to(tmp_path / "cache")
    monkeypatch.setenv("SIMFUNNEL_REVEAL", str(tgz))
    assert reveal_dir() == folder


def test_cli_and_clear_errors(tmp_path, notebook, fake_reveal, monkeypatch, capsys):
    assert main(["slides", str(notebook), "-o", str(tmp_path / "d.html"), "--reveal", str(fake_reveal)]) == 0
    assert (tmp_path / "d.html").is_file() and "works offline" in capsys.readouterr().err
    assert main(["slides", str(tmp_path / "missing.ipynb"), "--reveal", str(fake_reveal)]) == 2
    assert "notebook not found" in capsys.readouterr().err
    assert main(["slides", str(notebook), "--reveal", str(tmp_path)]) == 2
    assert "not a reveal.js folder" in capsys.readouterr().err
    # no reveal.js anywhere and no npm: one message saying how to get it
    monkeypatch.setenv("SIMFUNNEL_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.delenv("SIMFUNNEL_REVEAL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(SlidesError, match="npm pack reveal.js@"):
        reveal_dir()


def test_real_reveal(tmp_path, notebook, real_reveal):
    """With the real reveal.js (cached, or fetched once with npm), the deck inlines it and loads nothing."""
    html = build_slides(notebook, tmp_path / "deck.html", reveal=real_reveal).read_text(encoding="utf-8")
    assert "Reveal.initialize" in html and len(html) > 100_000
    assert not re.search(r"""(?:src|href)\s*=\s*["']https?:""", html)


def test_tarball_path_traversal_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMFUNNEL_CACHE_DIR", str(tmp_path / "cache"))
    tgz = tmp_path / "evil.tgz"
    with tarfile.open(tgz, "w:gz") as tar:
        for name in ("../escaped.txt", "package/dist/reveal.js", "package/dist/reveal.css"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    folder = reveal_dir(tgz)
    assert (folder / "dist" / "reveal.js").is_file()
    assert not list(tmp_path.rglob("escaped.txt"))


def test_unreadable_notebook(tmp_path, fake_reveal):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SlidesError, match="not a readable notebook"):
        build_slides(bad, reveal=fake_reveal)


def test_output_dir_created(tmp_path, notebook, fake_reveal):
    out = build_slides(notebook, Path(tmp_path) / "a" / "b" / "deck.html", reveal=fake_reveal)
    assert out.is_file()


# ---------------------------------------------------------------------------------------------- pagination
def _slide_sources(nb) -> list[list[str]]:
    slides: list[list[str]] = []
    for cell in nb.cells:
        if cell.metadata["slideshow"]["slide_type"] == "slide":
            slides.append([])
        slides[-1].append(cell.source if cell.cell_type == "markdown" else f"<{cell.cell_type}>")
    return slides


def test_split_markdown_at_paragraphs_headings_and_lists():
    text = (
        "# Title\nIntro line one\nline two.\n\n- a\n- b\n\n  more on b\n\n```\ncode\n\nstill code\n```\n### Sub\nEnd."
    )
    assert split_markdown(text) == [
        "# Title",
        "Intro line one\nline two.",
        "- a\n- b\n\n  more on b",
        "```\ncode\n\nstill code\n```",
        "### Sub",
        "End.",
    ]


def test_long_sections_become_several_slides_with_one_idea_each():
    long_text = "\n\n".join(f"Paragraph {i}. " + "word " * 60 for i in range(12))
    long_list = "\n".join(f"- item {i}: " + "word " * 15 for i in range(40))
    fig = nbformat.v4.new_code_cell("plot()")
    fig.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="10 replications\n"),
        nbformat.v4.new_output("execute_result", data={"text/html": "<table><tr><td>1</td></tr></table>"}),
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Deck\n\n" + long_text),
        nbformat.v4.new_markdown_cell(long_list),
        nbformat.v4.new_markdown_cell("## Results\n\n" + "word " * 200 + "\n\n**How to read it.** The bars."),
        fig,
    ]
    slides = _slide_sources(paginate(nb))
    text_slides = [s for s in slides if any("Paragraph" in x for x in s)]
    assert len(text_slides) >= 3 and slides[0][0] == "# Deck"
    assert sum(x.count("- item") for s in slides for x in s) == 40  # the list is cut between items, none lost
    assert len([s for s in slides if any("- item" in x for x in s)]) >= 2
    # the figure is on its own slide with its caption and the section's name
    figure = next(s for s in slides if "**How to read it.** The bars." in s)
    assert len(figure) == 3 and figure[-1] == "<code>" and "Results" in figure[0] and "sf-kicker" in figure[0]
    assert slides[-1] == [figure[0], "<code>", "<code>"]  # after the figure: the printed line and the table
    kinds = [c.metadata["slideshow"].get("data", {}).get("sf_kind") for c in paginate(nb).cells]
    assert {"figure", "table", "text"} <= set(kinds)


# ---------------------------------------------------------------------------------------------- rendering
MEASURE_JS = """
<script>
(function () {
  function measure() {
    var out = [], cfg = Reveal.getConfig();
    Reveal.getSlides().forEach(function (s) {
      var idx = Reveal.getIndices(s);
      Reveal.slide(idx.h, idx.v);
      var imgs = Array.prototype.map.call(s.querySelectorAll("img"), function (i) { return i.offsetHeight; });
      var clipped = Array.prototype.filter.call(s.querySelectorAll("*"), function (e) {
        var st = getComputedStyle(e);
        return (st.overflowX !== "visible" && e.scrollWidth > e.clientWidth + 1) ||
               (st.overflowY !== "visible" && e.scrollHeight > e.clientHeight + 1);
      }).length;
      out.push({h: idx.h, v: idx.v, height: s.scrollHeight, width: s.scrollWidth, H: cfg.height, W: cfg.width,
                zoom: parseFloat(s.getAttribute("data-sf-zoom")), images: imgs, clipped: clipped,
                text: (s.textContent || "").trim().slice(0, 60)});
    });
    var pre = document.createElement("pre");
    pre.id = "sf-measure";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  (function wait() {
    if (document.documentElement.getAttribute("data-sf-fitted")) measure(); else setTimeout(wait, 50);
  })();
})();
</script>
"""


def chromium() -> str | None:
    """Chromium for the render check: ``$SIMFUNNEL_CHROMIUM``, else /usr/bin/chromium (Debian), else on PATH."""
    for cand in (os.environ.get("SIMFUNNEL_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if cand and Path(cand).is_file():
            return cand
    return None


def measure_deck(deck: Path, browser: str, tmp: Path) -> list[dict]:
    """Every slide of ``deck`` as rendered by headless Chromium at 1280 x 720: its content height and width
    (scrollHeight/scrollWidth) against the slide size, how many elements inside clip their content (a scroll
    box), the zoom the deck applied and its images' heights."""
    text = deck.read_text(encoding="utf-8")
    end = text.rfind("</html>")
    probe = tmp / f"probe-{deck.name}"
    probe.write_text(text[:end] + MEASURE_JS + text[end:], encoding="utf-8")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,720",
           "--virtual-time-budget=30000", "--dump-dom", probe.as_uri()]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    found = re.search(r'<pre id="sf-measure">(.*?)</pre>', proc.stdout, re.S)
    assert found, f"no measurement from {deck.name}: {proc.stderr[-1500:]}"
    return json.loads(htmllib.unescape(found.group(1)))


@pytest.fixture(scope="session")
def real_reveal(tmp_path_factory):
    """The real reveal.js: from the user's cache if it is there, else `npm pack` into a temporary cache."""
    try:
        return reveal_dir(fetch=False)
    except SlidesError:
        pass
    old = os.environ.get("SIMFUNNEL_CACHE_DIR")
    os.environ["SIMFUNNEL_CACHE_DIR"] = str(tmp_path_factory.mktemp("reveal-cache"))
    try:
        return reveal_dir()
    except SlidesError as exc:
        if not os.environ.get("CI"):
            pytest.skip(f"reveal.js not available: {exc}")
        raise
    finally:
        if old is None:
            os.environ.pop("SIMFUNNEL_CACHE_DIR", None)
        else:
            os.environ["SIMFUNNEL_CACHE_DIR"] = old


@pytest.mark.slow
def test_every_slide_of_every_notebook_fits_16_9(tmp_path, real_reveal):
    browser = chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is needed for the slide render check: install it or set SIMFUNNEL_CHROMIUM")
        pytest.skip("no Chromium (set SIMFUNNEL_CHROMIUM); CI always runs this check")
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    overflow, checked = [], 0
    for nb in notebooks:
        deck = build_slides(nb, tmp_path / f"{nb.stem}.html", reveal=real_reveal)
        slides = measure_deck(deck, browser, tmp_path)
        n_cells = len(nbformat.read(nb, as_version=4).cells)
        assert len(slides) >= 4, f"{nb.name}: {len(slides)} slides for {n_cells} cells"
        checked += len(slides)
        for s in slides:
            assert (s["W"], s["H"]) == (SLIDE_WIDTH, SLIDE_HEIGHT)
            where = f"{nb.stem} #/{s['h']}/{s['v']} ({s['text']!r})"
            if s["height"] > s["H"] + 1 or s["width"] > s["W"] + 1 or s["clipped"]:
                overflow.append(f"{where}: {s['width']}x{s['height']}, {s['clipped']} clipped inside")
            assert s["zoom"] >= 0.5, where  # text and tables stay readable
            assert all(h >= 0.3 * SLIDE_HEIGHT for h in s["images"]), f"{where}: figure shrunk to {s['images']}"
    assert not overflow, f"{len(overflow)} of {checked} slides overflow 1280x720: {overflow}"
