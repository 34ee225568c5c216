"""Result cache: identical run requests are served from disk; anything that changes the result misses."""

from __future__ import annotations

import importlib
import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import simfunnel
from simfunnel import attribute, compare, load_scenario, replicate, sweep
from simfunnel.experiments import cache as cache_module
from simfunnel.experiments.cache import ResultCache, canonical_json, default_cache_dir, model_fingerprint, resolve_cache
from simfunnel.experiments.seeds import child_seed, root_seed

simulate_module = importlib.import_module("simfunnel.simulate")  # the module (the package attribute is the function)
ROOT = Path(__file__).resolve().parents[1]
# Mechanism and accounting tests: an empty start (no warm-up) keeps the runs short and the identities over the
# whole run; the presets' one-year warm-up has its own tests (test_warmup.py).
SHORT = {"simulation.horizon_days": 90, "market.buyers_per_year": 1500, "simulation.warmup_days": 0}


def short(name: str = "base"):
    return load_scenario(ROOT / "scenarios" / f"{name}.toml").with_overrides(SHORT)


@pytest.fixture
def calls(monkeypatch):
    """Counts real simulations (the serial executor calls `simfunnel.simulate.simulate` in this process)."""
    counter = {"n": 0}
    real = simulate_module.simulate

    def counting(scenario, seed=None):
        counter["n"] += 1
        return real(scenario, seed)

    monkeypatch.setattr(simulate_module, "simulate", counting)
    return counter


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch):
    monkeypatch.delenv("SIMFUNNEL_CACHE", raising=False)


def test_second_identical_request_is_served_from_cache(tmp_path, calls):
    sc = short()
    first = replicate(sc, n=3, seed=7, executor="serial", cache=tmp_path)
    assert calls["n"] == 3
    assert len(ResultCache(tmp_path).entries()) == 3
    second = replicate(sc, n=3, seed=7, executor="serial", cache=tmp_path)
    assert calls["n"] == 3  # nothing simulated again
    assert first.runs.equals(second.runs)  # identical numbers, wall_seconds included
    assert first.summary.equals(second.summary)
    # a longer request reuses the first replications and simulates only the new ones
    replicate(sc, n=5, seed=7, executor="serial", cache=tmp_path)
    assert calls["n"] == 5


def test_cached_numbers_equal_a_fresh_run(tmp_path, calls):
    sc = short()
    cached = replicate(sc, n=2, seed=3, executor="serial", cache=tmp_path)
    cached = replicate(sc, n=2, seed=3, executor="serial", cache=tmp_path)  # from disk
    fresh = replicate(sc, n=2, seed=3, executor="serial", cache=None)
    a = cached.runs[cached.runs["metric"] != "wall_seconds"].reset_index(drop=True)
    b = fresh.runs[fresh.runs["metric"] != "wall_seconds"].reset_index(drop=True)
    assert a.equals(b)


def test_changed_parameter_and_other_seed_miss(tmp_path, calls):
    sc = short()
    replicate(sc, n=2, seed=1, executor="serial", cache=tmp_path)
    assert calls["n"] == 2
    replicate(sc.with_overrides({"sales.reps": sc.sales.reps + 1}), n=2, seed=1, executor="serial", cache=tmp_path)
    assert calls["n"] == 4
    replicate(sc, n=2, seed=2, executor="serial", cache=tmp_path)
    assert calls["n"] == 6
    store = ResultCache(tmp_path)
    assert len(store.entries()) == 6
    # labels are not model inputs: a renamed scenario hits
    replicate(
        sc.with_overrides({"name": "renamed", "description": "x"}), n=2, seed=1, executor="serial", cache=tmp_path
    )
    assert calls["n"] == 6


def test_keys_distinguish_scenario_seed_and_model():
    store = ResultCache("/nonexistent")
    sc = short()
    root = root_seed(1)
    k = store.key(sc, child_seed(root, 0))
    assert k == store.key(load_scenario(ROOT / "scenarios" / "base.toml").with_overrides(SHORT), child_seed(root, 0))
    assert k != store.key(sc, child_seed(root, 1))  # another replication (spawn key)
    assert k != store.key(sc, child_seed(root_seed(2), 0))  # another root seed (entropy)
    assert k != store.key(sc.with_overrides({"organisation.crm_logging": 0.11}), child_seed(root, 0))
    assert k != store.key(sc, child_seed(root, 0), kind="timeseries")
    assert k != store.key(sc, child_seed(root, 0), fingerprint="0.0.0+deadbeef")


def test_canonical_json_floats_and_inf():
    text = canonical_json({"b": 1.0, "a": float("inf"), "c": [0.1, 2], "d": True})
    assert text == '{"a":"inf","b":"1.0","c":["0.1",2],"d":true}'
    assert canonical_json({"x": 0.1 + 0.2}) != canonical_json({"x": 0.3})  # exact float repr


def test_version_or_model_source_change_misses(tmp_path, calls, monkeypatch):
    sc = short()
    replicate(sc, n=2, seed=1, executor="serial", cache=tmp_path)
    assert calls["n"] == 2
    version = simfunnel.__version__
    monkeypatch.setattr(simfunnel, "__version__", "99.0.0")
    replicate(sc, n=2, seed=1, executor="serial", cache=tmp_path)
    assert calls["n"] == 4
    monkeypatch.setattr(simfunnel, "__version__", version)
    replicate(sc, n=2, seed=1, executor="serial", cache=tmp_path)
    assert calls["n"] == 4  # back to the first version: its entries are still there
    # a change in the model's source: fake it by pointing the fingerprint at a changed copy of the sources
    fake_pkg = tmp_path / "pkg"
    (fake_pkg / "model").mkdir(parents=True)
    for rel in ("ledger.py", "metrics.py", "simulate.py", "distributions.py"):
        (fake_pkg / rel).write_bytes((ROOT / "simfunnel" / rel).read_bytes())
    for p in (ROOT / "simfunnel" / "model").glob("*.py"):
        (fake_pkg / "model" / p.name).write_bytes(p.read_bytes())
    before = model_fingerprint()
    monkeypatch.setattr(cache_module, "_PACKAGE", fake_pkg)
    cache_module.invalidate_fingerprint()
    try:
        assert model_fingerprint() == before  # same sources, same fingerprint
        with (fake_pkg / "model" / "sales.py").open("a") as fh:
            fh.write("\n# an edit\n")
        cache_module.invalidate_fingerprint()
        assert model_fingerprint() != before
        store = ResultCache(tmp_path)
        assert store.get_summary(sc, child_seed(root_seed(1), 0)) is None
    finally:
        monkeypatch.setattr(cache_module, "_PACKAGE", ROOT / "simfunnel")
        cache_module.invalidate_fingerprint()
    assert ResultCache(tmp_path).get_summary(sc, child_seed(root_seed(1), 0)) is not None


def test_disabled_cache_writes_nothing(tmp_path, calls, monkeypatch):
    sc = short()
    replicate(sc, n=2, seed=1, executor="serial", cache=None)
    replicate(sc, n=2, seed=1, executor="serial", cache=False)
    monkeypatch.setenv("SIMFUNNEL_CACHE", "0")
    replicate(sc, n=2, seed=1, executor="serial", cache=tmp_path)  # the environment wins over the argument
    assert calls["n"] == 6
    assert not any(tmp_path.rglob("*"))
    assert resolve_cache(True) is None


def test_default_dir_and_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMFUNNEL_CACHE_DIR", str(tmp_path / "here"))
    assert default_cache_dir() == tmp_path / "here"
    assert resolve_cache(True).directory == tmp_path / "here"
    monkeypatch.delenv("SIMFUNNEL_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == Path.home() / ".cache" / "simfunnel"
    with pytest.raises(TypeError):
        resolve_cache(3.5)


def test_compare_attribute_and_sweep_use_the_cache(tmp_path, calls):
    lo, hi = short("siloed"), short("aligned")
    exp1 = compare({"siloed": lo, "aligned": hi}, n=2, seed=4, executor="serial", cache=tmp_path)
    assert calls["n"] == 4
    exp2 = compare({"siloed": lo, "aligned": hi}, n=2, seed=4, executor="serial", cache=tmp_path)
    assert calls["n"] == 4
    assert exp1.diffs.equals(exp2.diffs)
    # the attribution's empty and full coalitions are the compared scenarios (labels aside): served from disk
    halves = [("mql_threshold", "crm_logging", "handoff", "pass_context", "response_sla_hours"),
              ("queue_policy", "too_early", "rep_training", "post_sale_followup")]  # fmt: skip
    res = attribute(lo, hi, n=2, seed=4, levers=halves, executor="serial", cache=tmp_path)
    assert calls["n"] == 4 + 2 * 2  # only the two one-group coalitions were simulated
    assert np.isfinite(res.gap["mean"])
    sw = sweep(lo, {"sales.reps": [lo.sales.reps, lo.sales.reps + 2]}, n=2, seed=4, executor="serial", cache=tmp_path)
    assert calls["n"] == 4 + 4 + 2  # the first point is the siloed scenario itself
    assert sw.errors.empty


def test_sweep_checkpoint_still_written_with_cache_hits(tmp_path, calls):
    sc = short()
    grid = {"sales.reps": [4, 6]}
    sweep(sc, grid, n=2, seed=1, executor="serial", cache=tmp_path / "c")
    ck = tmp_path / "ck.csv"
    sweep(sc, grid, n=2, seed=1, executor="serial", cache=tmp_path / "c", checkpoint=ck)
    assert calls["n"] == 4
    assert ck.is_file() and len(ck.read_text().splitlines()) > 1


def test_writes_are_atomic_under_concurrency(tmp_path, monkeypatch):
    store = ResultCache(tmp_path)
    sc = short()
    seed = child_seed(root_seed(1), 0)
    payloads = [{"profit": float(i), "won": float(i) * 2} for i in range(40)]
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            ResultCache(tmp_path).put_summary(sc, seed, payloads[i])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    files = list(tmp_path.rglob("*"))
    assert [p.name for p in files if p.is_file()] == [f"{store.key(sc, seed)}.json"]  # no temporary files left
    got = store.get_summary(sc, seed)
    assert got in payloads  # one complete record, never a mix
    record = json.loads(store.path_for(store.key(sc, seed)).read_text())
    assert record["model"] == model_fingerprint()

    # a writer that dies before the rename leaves the old record intact and no temporary file
    def boom(src, dst):
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(os, "replace", boom)
        with pytest.raises(OSError):
            store.put_summary(sc, seed, {"profit": -1.0})
    assert store.get_summary(sc, seed) == got
    assert [p for p in tmp_path.rglob("*.tmp")] == []


def test_unreadable_entry_is_a_miss(tmp_path):
    store = ResultCache(tmp_path)
    sc = short()
    seed = child_seed(root_seed(1), 0)
    store.put_summary(sc, seed, {"profit": 1.0})
    store.path_for(store.key(sc, seed)).write_text("{not json")
    assert store.get_summary(sc, seed) is None
    assert store.clear() == 1
