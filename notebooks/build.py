"""Build the notebook suite from its sources and execute it, so the notebooks are stored with their outputs.

The sources are `notebooks/src/NN_name.py` in jupytext "percent" format (``# %%`` code cells,
``# %% [markdown]`` text cells, ``# %% tags=["parameters"]`` for papermill): readable diffs, lintable with ruff.
This script converts each source to `notebooks/NN_name.ipynb` (stable cell ids, the ``python3`` kernel) and
executes it in place with ``jupyter nbconvert --execute --inplace`` (cwd: notebooks/, so scenario paths are
``../scenarios/...``), printing the run time of each notebook. nbval (``pytest``) then checks that a fresh run
prints the same outputs.

    .venv/bin/python notebooks/build.py                 # all notebooks
    .venv/bin/python notebooks/build.py 02 05           # only those whose name starts with 02 or 05
    .venv/bin/python notebooks/build.py --no-execute    # convert only (outputs dropped)
    .venv/bin/python notebooks/build.py --figures-only  # only the README figures

A full build (no prefixes given) also redraws the README figures `notebooks/figures/siloed_vs_aligned.png` and
`lost_reasons.png` from the shipped siloed and aligned presets (the comparison of notebook 02: 10 paired
replications, seed 2).

Needs jupytext (in the ``dev`` extra). Re-run it whenever the model, a scenario preset, numpy, pandas or
matplotlib changes: the stored outputs are what CI compares against.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def convert(src: Path) -> Path:
    """src/NN_name.py -> NN_name.ipynb without outputs; cell ids are the notebook stem and the cell number,
    so a rebuild changes no id."""
    nb = jupytext.read(src)
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python", "pygments_lexer": "ipython3"},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell.id = f"{src.stem[:2]}-{i:02d}"
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if not cell.metadata.get("tags"):
            cell.metadata.pop("tags", None)
    out = HERE / f"{src.stem}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, out)
    return out


def execute(path: Path, timeout: int = 600) -> tuple[float, float]:
    """Run the notebook in place (kernel python3, cwd notebooks/); returns (wall, CPU) seconds, the CPU time
    being that of nbconvert and its kernel (all processes started for it), i.e. the cost on one core."""
    env = dict(os.environ, TQDM_DISABLE="1", PYTHONHASHSEED="0")
    env.pop("MPLBACKEND", None)  # the notebooks select the inline backend themselves
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
           f"--ExecutePreprocessor.timeout={timeout}", "--ExecutePreprocessor.kernel_name=python3",
           "--ExecutePreprocessor.record_timing=False", path.name]  # fmt: skip
    t0 = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, cwd=HERE, env=env, check=True, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return time.perf_counter() - t0, cpu


def stderr_cells(path: Path) -> list[int]:
    """Indices of the code cells that wrote to stderr (warnings): output that should not be stored."""
    nb = nbformat.read(path, as_version=4)
    return [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.outputs)
    ]


def readme_figures(n: int = 10, seed: int = 2) -> list[Path]:
    """Redraw the README figures from the shipped presets: the key results of siloed vs aligned and where the
    buyers go (the comparison notebook 02 runs with its default parameters)."""
    import matplotlib

    matplotlib.use("Agg")
    from simfunnel import compare, load_scenario, plots

    pair = {name: load_scenario(f"preset:{name}") for name in ("siloed", "aligned")}
    exp = compare(pair, n=n, seed=seed, executor="serial", progress=False)
    out = HERE / "figures"
    out.mkdir(exist_ok=True)
    paths = [out / "siloed_vs_aligned.png", out / "lost_reasons.png"]
    for fig, path in zip((plots.compare_kpis(exp), plots.lost_reasons(exp.summary)), paths, strict=True):
        plots.save_figure(fig, path, dpi=100)
        matplotlib.pyplot.close(fig)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("only", nargs="*", help="prefixes of the notebooks to build (default: all)")
    ap.add_argument("--no-execute", action="store_true", help="convert only, do not execute")
    ap.add_argument("--figures-only", action="store_true", help="only redraw the README figures")
    args = ap.parse_args(argv)
    if args.figures_only:
        for path in readme_figures():
            print(f"{path.relative_to(HERE)}: drawn")
        return 0
    sources = sorted(p for p in SRC.glob("[0-9][0-9]_*.py") if not args.only or p.stem.startswith(tuple(args.only)))
    if not sources:
        print("no notebook sources matched", file=sys.stderr)
        return 2
    status = 0
    for src in sources:
        nb = convert(src)
        if args.no_execute:
            print(f"{nb.name}: converted")
            continue
        try:
            wall, cpu = execute(nb)
        except subprocess.CalledProcessError as exc:
            print(f"{nb.name}: FAILED\n{exc.stderr[-4000:]}", file=sys.stderr)
            return 1
        print(f"{nb.name}: executed in {wall:.1f} s ({cpu:.1f} s CPU)")
        warnings = stderr_cells(nb)
        if warnings:
            print(
                f"{nb.name}: stderr output (warnings?) in cell(s) {warnings}: fix them, nbval compares it",
                file=sys.stderr,
            )
            status = 1
    if not args.only and not args.no_execute:
        for path in readme_figures():
            print(f"{path.relative_to(HERE)}: drawn")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
