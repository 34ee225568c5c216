"""One options object for every experiment; the old execution keywords keep working (issue 10, item 6)."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import simfunnel
from simfunnel import RunOptions, compare, replicate
from simfunnel.experiments import ProcessExecutor, SerialExecutor
from simfunnel.experiments.executors import open_executor
from simfunnel.experiments.options import resolve_options
from tests.experiments.conftest import short

EXPERIMENTS = ("replicate", "compare", "sweep", "attribute", "optimize_budget", "best_splits")
OLD_KEYWORDS = ("executor", "workers", "address", "client", "progress", "cache", "_runner")


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["metric"] != "wall_seconds"].reset_index(drop=True)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_no_signature_repeats_the_execution_arguments(name):
    params = inspect.signature(getattr(simfunnel, name)).parameters
    assert "options" in params and params["options"].default is None
    assert not set(OLD_KEYWORDS) & set(params)
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_options_and_keywords_give_the_same_result():
    a = replicate(short(), 3, seed=4, options=RunOptions(executor="serial", progress=False))
    b = replicate(short(), 3, seed=4, executor="serial", progress=False)
    pd.testing.assert_frame_equal(stable(a.runs), stable(b.runs))


def test_default_executor_is_serial():
    assert RunOptions().executor is None
    with RunOptions().scope() as ex:
        assert isinstance(ex, SerialExecutor)
    assert isinstance(open_executor(), SerialExecutor)
    assert isinstance(open_executor("processes", workers=1), ProcessExecutor)
    with pytest.raises(ValueError, match="address/client are for executor='dask'"):
        open_executor("serial", address="tcp://nowhere:1")


def test_both_or_unknown_keywords_are_errors():
    with pytest.raises(TypeError, match=r"compare\(\): pass either options=RunOptions\(...\) or workers=, not both"):
        compare({"a": short()}, 2, seed=1, options=RunOptions(), workers=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'worker'; did you mean 'workers'"):
        replicate(short(), 2, seed=1, worker=2)
    with pytest.raises(TypeError, match="options must be a RunOptions"):
        replicate(short(), 2, seed=1, options={"executor": "serial"})


def test_resolve_options_maps_the_runner_hook():
    opts = resolve_options(None, {"executor": "processes", "workers": 3, "_runner": "m:f"}, "x")
    assert opts == RunOptions(executor="processes", workers=3, runner="m:f")
    assert opts.replace(workers=1).workers == 1
    with pytest.raises(Exception, match="frozen|cannot assign"):
        opts.workers = 2  # type: ignore[misc]
