"""Misspelt KPI names and sweep fields fail before any simulation, with a did-you-mean (issue 10.6)."""

from __future__ import annotations

import pytest

from simfunnel import ExperimentError, ScenarioError, attribute, best_splits, compare, optimize_budget, replicate, sweep
from simfunnel.vocabulary import UnknownNameError
from tests.experiments.conftest import short

SERIAL = {"executor": "serial", "progress": False}


def test_attribute_checks_the_metric_first(model_runs):
    assert issubclass(UnknownNameError, ValueError) and issubclass(UnknownNameError, KeyError)
    with pytest.raises(UnknownNameError, match=r"attribute: metric: 'proft' is not a KPI; did you mean 'profit'\?"):
        attribute(short("siloed"), short("aligned"), 2, seed=1, metric="proft", **SERIAL)
    assert model_runs == []


def test_optimize_budget_checks_the_objective_first(model_runs):
    with pytest.raises(UnknownNameError, match=r"objective: 'revenu' is not a KPI; did you mean 'revenue'\?"):
        optimize_budget(short(), objective="revenu", n=2, seed=1, step=0.5, **SERIAL)
    assert model_runs == []


def test_best_splits_checks_the_kpis_first(model_runs):
    with pytest.raises(UnknownNameError, match=r"kpis: 'mql' is not a KPI; did you mean 'mqls'\?"):
        best_splits(short(), 2, seed=1, step=0.5, kpis=("mql", "profit"), **SERIAL)
    assert model_runs == []


def test_replicate_checks_the_precision_metric_first(model_runs):
    with pytest.raises(UnknownNameError, match="precision_metric: 'profitt' is not a KPI; did you mean 'profit'"):
        replicate(short(), 2, seed=1, precision=0.1, precision_metric="profitt", **SERIAL)
    assert model_runs == []


def test_a_custom_runner_defines_its_own_kpis():
    res = optimize_budget(
        short(), objective="score", n=2, seed=1, step=0.5, refine=False, _runner=_scoring_runner, **SERIAL
    )
    assert res.objective == "score" and res.mean == 1.0


def _scoring_runner(scenario, seed):
    return {"score": 1.0}


def test_sweep_names_an_unknown_field_at_once(model_runs):
    with pytest.raises(ScenarioError, match=r"sales\.repz: unknown field 'repz'; did you mean 'reps'\?"):
        sweep(short(), {"sales.repz": [3, 5]}, 2, seed=1, **SERIAL)
    # also when the misspelt field comes after a valid one, and for an explicit list of points
    with pytest.raises(ScenarioError, match="did you mean 'reps'"):
        sweep(short(), {"organisation.mql_threshold": [0.3], "sales.repz": [3]}, 2, seed=1, **SERIAL)
    with pytest.raises(ScenarioError, match="did you mean 'reps'"):
        sweep(short(), [{"sales.reps": 3}, {"sales.repz": 5}], 2, seed=1, **SERIAL)
    assert model_runs == []


def test_sweep_without_a_single_valid_point_fails_at_once(model_runs):
    with pytest.raises(ExperimentError, match=r"sweep: every point failed \(2 of 2\).*sales\.reps") as info:
        sweep(short(), {"sales.reps": [-1, 0]}, 2, seed=1, **SERIAL)
    assert model_runs == []
    assert info.value.errors["sales.reps"].tolist() == [-1, 0]


def _always_fails(scenario, seed):
    raise ValueError("no luck")


def test_sweep_whose_every_point_fails_raises(tmp_path):
    ck = tmp_path / "sweep.csv"
    with pytest.raises(ExperimentError, match="sweep: every point failed .* ValueError: no luck") as info:
        sweep(short(), {"sales.reps": [4, 6]}, 2, seed=1, checkpoint=ck, _runner=_always_fails, **SERIAL)
    assert info.value.errors["point"].tolist() == [0, 1]
    assert not ck.exists()  # nothing finished, nothing to save


def test_compare_whose_every_run_fails_raises():
    with pytest.raises(ExperimentError, match="compare: every scenario failed"):
        compare({"a": short(), "b": short("aligned")}, 2, seed=1, _runner=_always_fails, **SERIAL)
    with pytest.raises(ExperimentError, match="replicate: every scenario failed"):
        replicate(short(), 2, seed=1, _runner=_always_fails, **SERIAL)


def test_budget_search_whose_every_split_fails_raises():
    with pytest.raises(ExperimentError, match="every split failed"):
        optimize_budget(short(), objective="profit", n=2, seed=1, step=0.5, _runner=_always_fails, **SERIAL)


@pytest.mark.filterwarnings("ignore:attribute. the aligned scenario also differs")
def test_attribute_failures_are_experiment_errors_and_still_runtime_errors():
    with pytest.raises(RuntimeError, match="coalition run"):
        attribute(short("siloed"), short("aligned"), 2, seed=1, levers=["handoff"], _runner=_always_fails, **SERIAL)
    assert issubclass(ExperimentError, RuntimeError)
