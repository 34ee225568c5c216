"""The README example saved as a script without an ``if __name__ == "__main__":`` guard (issue 10.1): works with
the default executor; with ``executor="processes"`` it fails fast, naming the missing guard."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.experiments.conftest import ROOT, SHORT

README = """
from simfunnel import load_scenario, simulate, replicate, compare
siloed = load_scenario("scenarios/siloed.toml").with_overrides({short})
result = simulate(siloed, seed=1)
more_reps = siloed.with_overrides({{"sales.reps": 12}})
aligned = load_scenario("scenarios/aligned.toml").with_overrides({short})
exp = compare({{"siloed": siloed, "aligned": aligned}}, n=3, seed=1{extra})
print("diff rows", len(exp.diffs))
"""


def _run(tmp_path, extra: str, guard: bool = False) -> subprocess.CompletedProcess:
    code = textwrap.dedent(README.format(short=SHORT, extra=extra))
    if guard:
        code = "def main():\n" + textwrap.indent(code, "    ") + "\nif __name__ == '__main__':\n    main()\n"
    script = tmp_path / "snippet.py"
    script.write_text(code)
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_unguarded_script_with_the_default_executor_works(tmp_path):
    proc = _run(tmp_path, "")
    assert proc.returncode == 0, proc.stderr
    assert "diff rows" in proc.stdout and "diff rows 0" not in proc.stdout


def test_unguarded_script_with_processes_names_the_missing_guard(tmp_path):
    proc = _run(tmp_path, ", executor='processes', workers=2")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("simfunnel.errors.ExperimentError: compare: every scenario failed")
    assert "guard the script's entry point with if __name__ == '__main__': or use executor='serial'" in last.lower()
    assert "snippet.py" in last
    assert "out of memory" not in proc.stderr


def test_guarded_script_with_processes_works(tmp_path):
    proc = _run(tmp_path, ", executor='processes', workers=2", guard=True)
    assert proc.returncode == 0, proc.stderr
    assert "diff rows" in proc.stdout and "diff rows 0" not in proc.stdout
