"""Scenario loading: presets, `extends`, dotted overrides, immutability and the malformed-file corpus."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from simfunnel import LEVERS, Scenario, ScenarioError, load_scenario, parse_override
from simfunnel.distributions import Exponential, LogNormal
from simfunnel.scenario import _validate, deep_merge

ROOT = Path(__file__).resolve().parents[1]
PRESETS = sorted((ROOT / "scenarios").glob("*.toml"))
BASE = ROOT / "scenarios" / "base.toml"
BAD_DIR = Path(__file__).resolve().parent / "data" / "bad_scenarios"
EXPECTED = tomllib.loads((BAD_DIR / "expected.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def base() -> Scenario:
    return load_scenario(BASE)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------------------- presets
def test_presets_exist():
    assert {p.stem for p in PRESETS} >= {"base", "siloed", "aligned"}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_every_preset_loads(path: Path):
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.name
    # the plain-data form validates back to the same scenario
    assert _validate(scenario.to_dict(), source="round trip") == scenario


def test_siloed_and_aligned_differ_only_in_organisation():
    siloed = load_scenario(ROOT / "scenarios" / "siloed.toml")
    aligned = load_scenario(ROOT / "scenarios" / "aligned.toml")
    for section in ("simulation", "market", "marketing", "sales", "retention", "money"):
        assert getattr(siloed, section) == getattr(aligned, section), section
    assert siloed.organisation != aligned.organisation
    assert set(LEVERS) <= set(type(siloed.organisation).model_fields)


# ----------------------------------------------------------------------------------------------- extends
def test_extends_deep_merges(tmp_path: Path, base: Scenario):
    child = _write(
        tmp_path / "child.toml",
        f"""extends = {str(BASE)!r}
name = "child"

[sales.calendar]
hours_per_day = 6

[market]
process_days = {{ kind = "exponential", mean = 100 }}   # kind given: replaces the base's table whole
value = {{ mean = 20000 }}                              # no kind: merges into the base's lognormal
""",
    )
    s = load_scenario(child)
    assert s.name == "child"
    assert s.description == base.description  # sibling at the top level kept
    assert s.sales.calendar.hours_per_day == 6  # nested field overridden
    assert s.sales.calendar.start_hour == base.sales.calendar.start_hour  # nested siblings kept
    assert s.sales.calendar.workdays == base.sales.calendar.workdays
    assert s.sales.reps == base.sales.reps  # other fields of the section kept
    assert s.market.buyers_per_year == base.market.buyers_per_year
    assert s.market.process_days == Exponential(mean=100)  # replaced whole: no leftover sd
    assert isinstance(s.market.value, LogNormal)
    assert s.market.value.mean == 20000 and s.market.value.sd == base.market.value.sd
    assert s.organisation == base.organisation


def test_extends_chain_of_three(tmp_path: Path, base: Scenario):
    _write(tmp_path / "mid.toml", f'extends = {str(BASE)!r}\nname = "mid"\n[sales]\nreps = 7\n')
    top = _write(tmp_path / "top.toml", 'extends = "mid.toml"\n[sales]\nmeetings = 4\n')
    s = load_scenario(top)
    assert (s.name, s.sales.reps, s.sales.meetings) == ("mid", 7, 4)
    assert s.sales.rep_cost_per_year == base.sales.rep_cost_per_year


def test_deep_merge_function():
    base = {"a": {"x": 1, "y": 2}, "d": {"kind": "lognormal", "mean": 1, "sd": 2}, "keep": [1, 2]}
    top = {"a": {"y": 3}, "d": {"kind": "exponential", "mean": 5}, "new": 1}
    merged = deep_merge(base, top)
    assert merged == {"a": {"x": 1, "y": 3}, "d": {"kind": "exponential", "mean": 5}, "keep": [1, 2], "new": 1}
    assert base["a"] == {"x": 1, "y": 2}  # inputs untouched
    merged["keep"].append(3)
    assert base["keep"] == [1, 2]  # no shared lists


def test_extends_cycle_refused(tmp_path: Path):
    _write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    _write(tmp_path / "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "a.toml")
    assert info.value.field == "extends"
    assert "cycle" in info.value.message and "a.toml -> b.toml -> a.toml" in info.value.message


def test_extends_missing_target_refused(tmp_path: Path):
    child = _write(tmp_path / "child.toml", 'extends = "nowhere.toml"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.field == "extends"
    assert "'nowhere.toml' not found" in info.value.message
    assert str(info.value).startswith(f"{child}: extends: ")


def test_missing_file_refused(tmp_path: Path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "absent.toml")


# ----------------------------------------------------------------------------------------------- overrides
def test_with_overrides(base: Scenario):
    s = base.with_overrides({"sales.reps": 12, "market.process_days.mean": 200, "organisation.handoff": "realtime"})
    assert s.sales.reps == 12
    assert isinstance(s.market.process_days, LogNormal)
    assert (s.market.process_days.mean, s.market.process_days.sd) == (200, base.market.process_days.sd)
    assert s.organisation.handoff == "realtime"
    assert base == load_scenario(BASE)  # the original is untouched
    assert s.sales.calendar == base.sales.calendar
    assert s.marketing == base.marketing


def test_with_overrides_accepts_numpy_scalars(base: Scenario):
    s = base.with_overrides({"sales.reps": np.int64(12), "market.buyers_per_year": np.float64(5000.0)})
    assert s.sales.reps == 12 and s.market.buyers_per_year == 5000.0


def test_with_overrides_replaces_distribution_whole(base: Scenario):
    s = base.with_overrides({"market.process_days": {"kind": "fixed", "value": 90}})
    assert s.market.process_days.mean == 90


def test_load_scenario_with_overrides():
    s = load_scenario(BASE, overrides={"sales.reps": 3, "organisation.response_sla_hours": math.inf})
    assert s.sales.reps == 3 and s.organisation.response_sla_hours == math.inf


@pytest.mark.parametrize(
    "text, key, value",
    [
        ("sales.reps=12", "sales.reps", 12),
        (" sales.reps = 12 ", "sales.reps", 12),
        ("market.buyers_per_year=4500.5", "market.buyers_per_year", 4500.5),
        ("organisation.response_sla_hours=inf", "organisation.response_sla_hours", math.inf),
        ("organisation.handoff=realtime", "organisation.handoff", "realtime"),
        ('organisation.handoff="batch"', "organisation.handoff", "batch"),
        ("organisation.pass_context=true", "organisation.pass_context", True),
        ("sales.calendar.workdays=[0, 2, 4]", "sales.calendar.workdays", [0, 2, 4]),
        (
            'market.process_days={ kind = "exponential", mean = 90 }',
            "market.process_days",
            {"kind": "exponential", "mean": 90},
        ),
    ],
)
def test_parse_override(text, key, value):
    assert parse_override(text) == (key, value)


def test_parsed_overrides_apply(base: Scenario):
    overrides = dict(
        parse_override(t)
        for t in ("sales.reps=12", "organisation.response_sla_hours=inf", "organisation.handoff=realtime")
    )
    s = base.with_overrides(overrides)
    assert (s.sales.reps, s.organisation.response_sla_hours, s.organisation.handoff) == (12, math.inf, "realtime")


@pytest.mark.parametrize("text", ["sales.reps", "=12", "sales..reps=1", ".reps=1"])
def test_parse_override_refuses_malformed(text):
    with pytest.raises(ScenarioError) as info:
        parse_override(text)
    assert info.value.source == "--set" and "field.path=value" in info.value.message


@pytest.mark.parametrize(
    "key, field, hint",
    [
        ("sales.repz", "sales.repz", "did you mean 'reps'"),
        ("sale.reps", "sale", "did you mean 'sales'"),
        ("market.buyers_per_yer", "market.buyers_per_yer", "did you mean 'buyers_per_year'"),
        ("marketing.channels.search.qualty", "marketing.channels.search.qualty", "did you mean 'quality'"),
        ("sales.calendar.workday", "sales.calendar.workday", "did you mean 'workdays'"),
    ],
)
def test_override_of_unknown_field_refused(base: Scenario, key, field, hint):
    with pytest.raises(ScenarioError) as info:
        base.with_overrides({key: 1})
    assert info.value.source == "overrides"
    assert info.value.field == field
    assert hint in info.value.message


def test_override_inside_a_scalar_refused(base: Scenario):
    with pytest.raises(ScenarioError) as info:
        base.with_overrides({"sales.reps.max": 3})
    assert info.value.field == "sales.reps" and "not a table" in info.value.message


def test_override_with_bad_value_names_field(tmp_path: Path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(BASE, overrides={"sales.reps": 0})
    assert str(info.value).startswith(f"{BASE}: sales.reps: ")


def test_typo_is_blamed_rather_than_the_missing_field(base: Scenario):
    data = base.to_dict()
    data["sales"]["repz"] = data["sales"].pop("reps")
    with pytest.raises(ScenarioError) as info:
        _validate(data, source="x")
    assert info.value.field == "sales.repz" and "did you mean 'reps'" in info.value.message


# ----------------------------------------------------------------------------------------------- inf / NaN
@pytest.mark.parametrize("key", ["organisation.response_sla_hours", "marketing.acquisition_stop_day"])
def test_inf_allowed_where_documented(base: Scenario, key):
    s = base.with_overrides({key: math.inf})
    section, field = key.split(".")
    assert getattr(getattr(s, section), field) == math.inf
    with pytest.raises(ScenarioError) as info:
        base.with_overrides({key: math.nan})
    assert info.value.field == key


@pytest.mark.parametrize(
    "key",
    [
        "market.buyers_per_year",
        "marketing.budget_per_year",
        "sales.rep_cost_per_year",
        "sales.win.intercept",
        "sales.follow_up.desk_half",
        "marketing.shares.search",
        "market.process_days.mean",
    ],
)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_inf_refused_elsewhere(base: Scenario, key, value):
    with pytest.raises(ScenarioError) as info:
        base.with_overrides({key: value})
    assert info.value.field == key


# ----------------------------------------------------------------------------------------------- immutability
def test_scenario_is_frozen(base: Scenario):
    with pytest.raises(ValidationError):
        base.name = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        base.sales.reps = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        base.organisation.handoff = "realtime"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        base.market.process_days.sd = 1.0  # type: ignore[misc]


def test_scenario_is_hashable_and_comparable(base: Scenario):
    again = load_scenario(BASE)
    assert again == base and hash(again) == hash(base)
    same = base.with_overrides({"sales.reps": base.sales.reps})
    assert same == base and hash(same) == hash(base)
    other = base.with_overrides({"sales.reps": base.sales.reps + 1})
    assert other != base
    siloed = load_scenario(ROOT / "scenarios" / "siloed.toml")
    aligned = load_scenario(ROOT / "scenarios" / "aligned.toml")
    assert siloed != aligned
    assert len({base, again, same, other, siloed, aligned}) == 4
    assert {base: "x"}[again] == "x"


def test_hash_ignores_dict_order(base: Scenario):
    data = base.to_dict()
    data["marketing"]["shares"] = dict(reversed(list(data["marketing"]["shares"].items())))
    shuffled = _validate(data, source="x")
    assert shuffled == base and hash(shuffled) == hash(base)


# ----------------------------------------------------------------------------------------------- bad corpus
BAD_FILES = sorted(p.name for p in BAD_DIR.iterdir() if p.name != "expected.toml")


def test_bad_corpus_matches_manifest():
    assert len(BAD_FILES) >= 30
    assert sorted(EXPECTED) == BAD_FILES


@pytest.mark.parametrize("name", BAD_FILES)
def test_bad_scenario_refused(name: str):
    expected = EXPECTED[name]
    path = BAD_DIR / name
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    text = str(err)
    assert err.message
    assert Path(err.source).parent.resolve() == BAD_DIR.resolve(), text  # names a file of the corpus
    if expected["field"]:
        assert expected["field"] in err.field, text
        assert text.startswith(f"{err.source}: {err.field}: "), text
    else:
        assert err.field == "", text
        assert text.startswith(f"{err.source}: "), text
    assert expected["message"].lower() in text.lower(), text


def test_empty_file_says_it_is_empty(tmp_path: Path):
    """An empty scenario file (or one with only comments) says so, instead of listing missing fields."""
    for name, text in (("empty.toml", ""), ("comments.toml", "# nothing yet\n")):
        with pytest.raises(ScenarioError) as info:
            load_scenario(_write(tmp_path / name, text))
        assert info.value.field == "" and "the file is empty" in info.value.message
