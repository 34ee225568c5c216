"""`simfunnel slides`: a notebook becomes one offline reveal.js deck (reveal.js inlined, code hidden)."""

from __future__ import annotations

import base64
import io
import re
import tarfile
from pathlib import Path

import nbformat
import pytest

from simfunnel.cli import main
from simfunnel.slides import SlidesError, build_slides, reveal_dir, split_at_headings

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
    assert _slides(html) == 2


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


def test_real_reveal_if_cached(tmp_path, notebook):
    """With the real reveal.js in the cache (after one `simfunnel slides` on a machine with npm), the deck runs it."""
    try:
        folder = reveal_dir(fetch=False)
    except SlidesError:
        pytest.skip("reveal.js not in the cache (`simfunnel slides` fetches it once with npm)")
    html = build_slides(notebook, tmp_path / "deck.html", reveal=folder).read_text(encoding="utf-8")
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
