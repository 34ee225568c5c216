"""Progress when stderr is not a terminal: a plain line about every 30 s, silenced by progress=False,
TQDM_DISABLE or --quiet (issue 10.11). Time is faked; no wall-clock assertions."""

from __future__ import annotations

import io

import pytest

from simfunnel import replicate
from simfunnel.experiments.progress import LOG_INTERVAL, LogBar, NoBar, make_bar, progress_mode
from tests.experiments.conftest import short


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_log_bar_prints_a_line_per_interval_and_a_final_one():
    clock, out = FakeClock(), io.StringIO()
    bar = LogBar(120, "sweep", interval=30, file=out, clock=clock)
    for _ in range(40):  # 40 runs within 10 s: quiet
        clock.now += 0.25
        bar.update()
    assert out.getvalue() == ""
    clock.now += 20  # 30 s since the start
    bar.update()
    assert out.getvalue() == "sweep: 41/120 runs (34 %), 30s elapsed, ~58s left\n"
    clock.now += 29
    bar.update(9)
    assert out.getvalue().count("\n") == 1  # less than the interval since the last line
    clock.now += 1
    bar.close()  # the last line is out of date: one more
    assert out.getvalue().splitlines()[-1] == "sweep: 50/120 runs (42 %), 1m00s elapsed, ~1m24s left"
    clock.now += 60
    bar.update(70)
    bar.close()  # the last line is current: no repeat
    lines = out.getvalue().splitlines()
    assert lines[-1] == "sweep: 120/120 runs (100 %), 2m00s elapsed" and len(lines) == 3


def test_short_runs_print_nothing_at_all():
    clock, out = FakeClock(), io.StringIO()
    bar = LogBar(10, "compare", interval=30, file=out, clock=clock)
    for _ in range(10):
        clock.now += 1
        bar.update()
    bar.close()
    assert out.getvalue() == ""


def test_modes(monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    assert LOG_INTERVAL == 30.0
    assert progress_mode(None) == "log"  # pytest captures stderr: not a terminal
    assert isinstance(make_bar(5, "x", None), LogBar)
    assert progress_mode(False) == "off" and isinstance(make_bar(5, "x", False), NoBar)
    assert progress_mode(True) == "bar"
    monkeypatch.setenv("CI", "true")
    assert progress_mode(None) == "log"
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_mode(None) == "off" and isinstance(make_bar(5, "x", None), NoBar)


@pytest.mark.parametrize(
    ("progress", "disable", "expect_lines"), [(None, None, True), (False, None, False), (None, "1", False)]
)
def test_an_experiment_reports_progress_on_a_non_terminal_stderr(monkeypatch, capsys, progress, disable, expect_lines):
    monkeypatch.delenv("CI", raising=False)
    if disable is None:
        monkeypatch.delenv("TQDM_DISABLE", raising=False)
    else:
        monkeypatch.setenv("TQDM_DISABLE", disable)
    monkeypatch.setenv("SIMFUNNEL_PROGRESS_INTERVAL", "1e-9")  # every run is "30 s later"
    replicate(short(), 3, seed=1, executor="serial", progress=progress)
    err = capsys.readouterr().err
    if expect_lines:
        assert ": 1/3 runs (33 %), 0s elapsed, ~0s left" in err
        assert "3/3 runs (100 %)" in err
    else:
        assert "runs (" not in err
