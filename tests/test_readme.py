"""The README works as written: its Python example runs as a script from a folder outside the repository, and
its test command is the one CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.slow
def test_readme_python_example_runs_as_a_script_elsewhere(tmp_path: Path) -> None:
    """Saved as snippet.py (no `if __name__ == "__main__":` guard) and run from another folder, it exits 0."""
    (block,) = _python_blocks()
    script = tmp_path / "snippet.py"
    script.write_text(block + "\nprint(exp.diffs.loc[exp.diffs['metric'] == 'profit', 'mean_diff'].iloc[0])\n")
    env = {**os.environ, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "SIMFUNNEL_CACHE": "0"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert float(proc.stdout.strip().splitlines()[-1]) > 0  # aligned makes more profit


def test_readme_shows_the_test_command_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"\.venv/bin/pytest[^\n]*", ci).group(0).strip()
    assert command in README
