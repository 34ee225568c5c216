"""The one vocabulary: KPI and lever registry, lever groups, preset-derived lever settings, and the formatter."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from simfunnel import LEVERS as SCENARIO_LEVERS
from simfunnel import load_scenario
from simfunnel.formatting import format_ci, format_kpi, format_value
from simfunnel.presets import list_presets, preset_dir, preset_path
from simfunnel.scenario import ScenarioError
from simfunnel.vocabulary import (
    HEADLINES,
    KPI_SECTIONS,
    KPIS,
    LEVER_GROUPS,
    LEVERS,
    UnknownNameError,
    check_kpi,
    check_lever,
    lever_group_label,
    lever_settings,
)

ROOT = Path(__file__).resolve().parent.parent


def test_every_lever_is_in_exactly_one_group_and_is_a_scenario_lever() -> None:
    grouped = [name for members in LEVER_GROUPS.values() for name in members]
    assert sorted(grouped) == sorted(LEVERS) == sorted(SCENARIO_LEVERS)


def test_too_early_and_sla_groups_are_the_single_definition() -> None:
    """Issue: the report and notebook 02 grouped `too_early` and `response_sla_hours` differently."""
    group_of = {n: g for g, members in LEVER_GROUPS.items() for n in members}
    assert group_of["too_early"] == group_of["handoff"] == group_of["pass_context"]
    assert group_of["response_sla_hours"] == group_of["queue_policy"]


def test_lever_settings_are_read_from_the_presets() -> None:
    for which in ("siloed", "aligned"):
        org = load_scenario(ROOT / "scenarios" / f"{which}.toml").organisation
        assert dict(lever_settings(which)) == {n: getattr(org, n) for n in LEVERS}
        assert LEVERS["pass_context"].setting(which) == org.pass_context


def test_named_kpi_sets_use_registered_names() -> None:
    for names in [*HEADLINES.values(), *(m for _, m in KPI_SECTIONS)]:
        for name in names:
            assert name in KPIS, name
    assert all(k.better in (-1, 0, 1) and k.definition for k in KPIS.values())


@pytest.mark.parametrize(
    ("check", "bad", "good"), [(check_kpi, "proft", "profit"), (check_lever, "too_erly", "too_early")]
)
def test_unknown_names_suggest_the_closest(check, bad: str, good: str) -> None:
    assert check(good) == good
    with pytest.raises(UnknownNameError, match=f"did you mean '{good}'"):
        check(bad)


def test_group_label_of_an_exact_group_and_of_single_levers() -> None:
    label, members = next(iter(LEVER_GROUPS.items()))
    assert lever_group_label(members) == label
    assert lever_group_label(["pass_context"]) == "Context at handoff"


# ------------------------------------------------------------------------------------------- formatter
@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((10.4, 7.636, 13.2, "count"), {}, "10.4 [7.6, 13.2]"),
        ((-0.1, -0.12, -0.08, "days"), {"signed": True}, "-0.100 d [-0.120, -0.080]"),
        ((3.21e6, 3.05e6, 3.37e6, "money"), {}, "3.21M [3.05M, 3.37M]"),
        ((0.012, 0.008, 0.016, "share"), {"signed": True}, "+1.20 pp [+0.80, +1.60]"),
        ((5.0, float("nan"), float("nan"), "days"), {}, "5.00 d"),
    ],
)
def test_format_ci_one_precision_for_mean_and_bounds(args, kwargs, expected: str) -> None:
    assert format_ci(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("value", "unit", "signed", "expected"),
    [
        (1296.0, "hours", False, "1,296 h"),
        (-2e-10, "ratio", False, "0×"),
        (-0.0004, "days", False, "-0.0004 d"),
        (-0.00001, "share", True, "0.0 pp"),
        (0.253, "share", False, "25.3 %"),
        (2181.0, "count", False, "2,181"),
        (1.7734, "ratio", False, "1.77×"),
        (float("nan"), "money", False, "n/a"),
    ],
)
def test_format_value(value: float, unit: str, signed: bool, expected: str) -> None:
    assert format_value(value, unit, signed=signed) == expected


def test_format_kpi_uses_the_kpi_unit() -> None:
    assert format_kpi("win_rate", 0.25) == "25.0 %"
    assert format_kpi("profit", -12345.6, signed=True) == "-12.3k"


# ------------------------------------------------------------------------------------------- presets
def test_presets_ship_in_the_package_and_match_the_editable_copies() -> None:
    names = list_presets()
    assert {"base", "siloed", "aligned", "mmc_validation"} <= set(names)
    editable = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert names == editable
    for name in names:
        assert filecmp.cmp(preset_dir() / f"{name}.toml", ROOT / "scenarios" / f"{name}.toml", shallow=False), (
            f"scenarios/{name}.toml and simfunnel/presets/{name}.toml differ: copy the edited file over"
        )


def test_load_preset_by_name_and_suggest_on_a_typo() -> None:
    assert load_scenario("preset:aligned") == load_scenario(ROOT / "scenarios" / "aligned.toml")
    assert preset_path("base").name == "base.toml"
    with pytest.raises(ScenarioError, match="did you mean 'preset:aligned'"):
        load_scenario("preset:alinged")


def test_registry_lists_exactly_the_kpis_a_run_reports() -> None:
    """One vocabulary: every KPI in `RunResult.summary` is registered (label, unit, definition), and no other."""
    from simfunnel.metrics import SUMMARY_KEYS

    assert set(KPIS) == set(SUMMARY_KEYS)


def test_a_scenario_may_extend_a_preset_by_name(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text('extends = "preset:aligned"\nname = "mine"\n[sales]\nreps = 12\n')
    mine = load_scenario(tmp_path / "mine.toml")
    assert mine.sales.reps == 12 and mine.organisation == load_scenario("preset:aligned").organisation


def test_report_reads_the_sources_of_a_preset() -> None:
    """The report's 'source / rationale' column works for preset:NAME as for the file."""
    from simfunnel.present.report import field_sources

    by_name, by_file = field_sources(Path("preset:aligned")), field_sources(ROOT / "scenarios" / "aligned.toml")
    assert by_name.keys() == by_file.keys() and "organisation.pass_context" in by_name


def test_format_ci_treats_rounding_noise_as_a_point_interval():
    """A constant KPI whose replications differ only by floating-point noise (e.g. a budget summed per item) is shown
    at the usual precision, not with extra digits that try to tell its bounds apart."""
    from simfunnel.formatting import format_ci

    assert format_ci(1.8e6, 1.8e6 - 2e-10, 1.8e6 + 2e-10, "money") == "1.80M [1.80M, 1.80M]"
    assert format_ci(3.22e6, 3.2195e6, 3.2205e6, "money") != "3.22M [3.22M, 3.22M]"  # a real interval keeps digits
