"""`run_checks`: the validation report behind `simfunnel validate-model` and notebook 08."""

from __future__ import annotations

import pandas as pd
import pytest

from simfunnel.validation import CHECK_COLUMNS, check_row, exact_row, run_checks


@pytest.fixture(scope="module")
def quick() -> pd.DataFrame:
    return run_checks(quick=True, seed=0)


def test_quick_report_passes_every_check(quick):
    failed = quick.loc[~quick["passed"]]
    assert failed.empty, failed.to_string()


def test_report_table_shape(quick):
    assert tuple(quick.columns) == CHECK_COLUMNS
    assert quick["passed"].dtype == bool
    assert quick["check"].is_unique
    for col in ("expected", "simulated", "ci_low", "ci_high", "tolerance"):
        assert pd.api.types.is_float_dtype(quick[col])
    assert (quick["tolerance"] > 0).all()
    simulated = quick["ci_low"].notna()
    assert (quick.loc[simulated, "ci_low"] <= quick.loc[simulated, "simulated"]).all()
    assert (quick.loc[simulated, "simulated"] <= quick.loc[simulated, "ci_high"]).all()
    text = " ".join(quick["check"])
    for topic in ("Erlang C", "utilisation", "policy deadline", "policy score", "Little's law, rep queue",
                  "Little's law, sales stage", "fit_decay", "HBR 2011"):  # fmt: skip
        assert topic in text, topic


def test_check_row_logic():
    ok = check_row("x", 1.0, [0.9, 1.1, 1.0, 1.05])
    assert ok["passed"] and ok["simulated"] == pytest.approx(1.0125)
    assert ok["ci_low"] < ok["simulated"] < ok["ci_high"]
    bad = check_row("x", 2.0, [0.9, 1.1, 1.0, 1.05])
    assert not bad["passed"]
    # all replications equal: SE 0, only a floor can give a tolerance
    assert not check_row("x", 1e-6, [0.0, 0.0, 0.0])["passed"]
    assert check_row("x", 1e-6, [0.0, 0.0, 0.0], se_floor=1e-6)["passed"]
    assert not check_row("x", 0.0, [1.0])["passed"]  # one replication: no SE, no pass
    assert exact_row("y", 0.487, 0.48705, 5e-4)["passed"]
    assert not exact_row("y", 0.487, 0.4881, 5e-4)["passed"]
