"""`simfunnel.data.read_crm` on small messy exports: every fixture in tests/data/crm/ is refused or handled as
tests/data/crm/expected.toml says; recognised headers, mapping files, dates, numbers, file formats."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from simfunnel.data import CrmDataError, load_mapping, read_crm
from simfunnel.data.columns import number
from simfunnel.data.fields import FIELDS, TABLES, normalise

CRM = Path(__file__).resolve().parent / "data" / "crm"
EXPECTED = tomllib.loads((CRM / "expected.toml").read_text(encoding="utf-8"))
EXPORT_DATE = "2025-06-30"


def _read_case(case: str):
    def part(table: str) -> Path | None:
        path = CRM / f"{case}.{table}.csv"
        return path if path.exists() else None

    mapping = CRM / f"{case}.mapping.toml"
    return read_crm(part("leads"), part("deals"), part("activities"), mapping=mapping if mapping.exists() else None,
                    export_date=EXPORT_DATE)  # fmt: skip


def test_every_fixture_has_an_expectation():
    cases = {p.name.split(".")[0] for p in CRM.iterdir() if p.name != "expected.toml"}
    assert cases == set(EXPECTED)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_fixture(case):
    want = EXPECTED[case]
    if "error" in want:
        with pytest.raises(CrmDataError) as info:
            _read_case(case)
        err = info.value
        assert want["error"] in str(err)
        assert err.file == want["file"]
        assert err.line == want.get("line")
        assert err.column == want.get("column")
        assert str(err).startswith(want["file"])
        return
    data = _read_case(case)
    quality = data.quality
    for check in want["checks"]:
        rows = quality[(quality["check"] == check["check"]) & (quality["file"] == check["file"])]
        assert len(rows) == 1, (check, quality.to_string())
        row = rows.iloc[0]
        assert row["rows"] == check["rows"], quality.to_string()
        assert check["action"] in row["action"], row["action"]
        if check["rows"]:
            assert row["example"], row  # a line of the file (an owner for team changes)
    counts = data.counts()
    for key, value in want.get("counts", {}).items():
        assert counts[key] == pytest.approx(value), (key, counts)


def test_quality_summary_is_tidy():
    data = _read_case("orphan_deals")
    assert list(data.quality.columns) == ["check", "file", "rows", "action", "example"]
    assert data.quality["rows"].dtype == "int64"


def test_salesforce_leads_and_opportunities_recognised():
    leads = pd.DataFrame({"Id": ["L1", "L2"], "CreatedDate": ["2025-01-02T09:00:00.000+0000", "2025-01-03"],
                          "LeadSource": ["Web", "Partner"], "OwnerId": ["005A", "005B"],
                          "ConvertedOpportunityId": ["O1", ""]})  # fmt: skip
    deals = pd.DataFrame({"Id": ["O1"], "CreatedDate": ["2025-01-05"], "CloseDate": ["2025-02-01"],
                          "StageName": ["Closed Won"], "IsWon": ["true"], "IsClosed": ["true"], "Amount": ["1,200"]})  # fmt: skip
    data = read_crm(leads, deals, export_date="2025-03-01")
    assert data.deals.loc[0, "lead_id"] == "L1"  # linked from the lead's ConvertedOpportunityId
    assert data.deals.loc[0, "outcome"] == "won" and data.deals.loc[0, "value"] == 1200
    assert data.columns["leads"]["channel"] == "LeadSource"
    assert data.leads.loc[0, "created"] == pd.Timestamp("2025-01-02 09:00")


def test_hubspot_and_pipedrive_headers_recognised():
    leads = pd.DataFrame({"Record ID": ["1"], "Create Date": ["2025-01-02 10:00"], "Original Source": ["Organic"],
                          "Contact owner": ["Ann"]})  # fmt: skip
    deals = pd.DataFrame({"Record ID": ["9"], "Associated Contact": ["1"], "Create Date": ["2025-01-04"],
                          "Deal Stage": ["closedlost"], "Amount": ["10"], "Close Date": ["2025-01-20"]})  # fmt: skip
    data = read_crm(leads, deals)
    assert data.deals.loc[0, "outcome"] == "lost" and bool(data.deals.loc[0, "lead_found"])
    pipe = pd.DataFrame({"ID": ["7"], "Deal created": ["2025-01-04"], "Status": ["won"], "Won time": ["2025-02-01"],
                         "Value": ["5"], "Owner": ["Bo"]})  # fmt: skip
    data = read_crm(leads.rename(columns={"Record ID": "ID", "Create Date": "Lead created"}), pipe)
    assert data.deals.loc[0, "closed"] == pd.Timestamp("2025-02-01")


def test_snake_case_headers_recognised():
    leads = pd.DataFrame({"lead_id": ["a"], "created_date": ["2025-01-02"], "lead_source": ["x"]})
    data = read_crm(leads)
    assert data.columns["leads"] == {"lead_id": "lead_id", "created": "created_date", "channel": "lead_source"}


def test_mapping_errors_name_the_key():
    with pytest.raises(CrmDataError, match="did you mean 'created'"):
        load_mapping({"leads": {"craeted": "X"}})
    with pytest.raises(CrmDataError, match="unknown mapping key 'dayfrist'.*did you mean 'dayfirst'"):
        load_mapping({"dayfrist": True})
    with pytest.raises(CrmDataError, match="must be won, lost or open"):
        load_mapping({"deals": {"outcomes": {"Signed": "yes"}}})


def test_mapping_outcomes_and_missing_channel_words():
    leads = pd.DataFrame({"Id": ["1", "2"], "Created": ["2025-01-02", "2025-01-03"], "Src": ["other", "Web"]})
    deals = pd.DataFrame({"Id": ["9"], "Created": ["2025-01-04"], "Phase": ["Signed"], "Closed": ["2025-01-09"]})
    mapping = {"missing_channel": ["other"], "leads": {"channel": "Src"},
               "deals": {"stage": "Phase", "closed": "Closed", "outcomes": {"Signed": "won"}}}  # fmt: skip
    data = read_crm(leads, deals, mapping=mapping)
    assert data.leads["channel"].tolist() == ["unknown", "Web"]
    assert data.deals.loc[0, "outcome"] == "won"


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234.50", 1234.5), ("1.234,50", 1234.5), ("€ 99", 99.0), ("12,5", 12.5), ("3,000", 3000.0), ("", None)],
)
def test_numbers(text, value):
    got = number(text)
    assert (got != got) if value is None else got == value


def test_dates_with_zones_and_am_pm():
    leads = pd.DataFrame({"Id": ["1", "2", "3"],
                          "CreatedDate": ["2025-03-14T09:30:00Z", "2025-03-14T09:30:00+01:00", "12/31/2025 11:15 PM"]})  # fmt: skip
    created = read_crm(leads).leads["created"].tolist()
    assert created == [pd.Timestamp("2025-03-14 09:30"), pd.Timestamp("2025-03-14 08:30"),
                       pd.Timestamp("2025-12-31 23:15")]  # fmt: skip


def test_parquet_and_excel_keep_types(tmp_path):
    leads = pd.DataFrame({"Id": ["L1", "L2"], "CreatedDate": pd.to_datetime(["2025-01-02", "2025-02-03"]),
                          "LeadSource": ["Web", None]})  # fmt: skip
    leads.to_parquet(tmp_path / "leads.parquet")
    data = read_crm(tmp_path / "leads.parquet")
    assert data.leads["created"].tolist() == leads["CreatedDate"].tolist()
    assert data.leads["channel"].tolist() == ["Web", "unknown"]
    pytest.importorskip("openpyxl")
    leads.to_excel(tmp_path / "leads.xlsx", index=False)
    assert read_crm(tmp_path / "leads.xlsx").leads["created"].tolist() == leads["CreatedDate"].tolist()


def test_unreadable_files(tmp_path):
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(CrmDataError, match="x.parquet: not a readable Parquet file"):
        read_crm(tmp_path / "x.parquet")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(CrmDataError, match="empty.csv: the file is empty"):
        read_crm(tmp_path / "empty.csv")
    with pytest.raises(CrmDataError, match="leads file not found"):
        read_crm(tmp_path / "missing.csv")
    (tmp_path / "a.json").write_text("{}")
    with pytest.raises(CrmDataError, match="cannot read '.json' files"):
        read_crm(tmp_path / "a.json")


def test_team_by_month_counts_joiners_and_leavers():
    data = _read_case("owner_turnover")
    team = data.team_by_month.set_index(data.team_by_month["month"].dt.strftime("%Y-%m"))
    assert team["active_owners"].to_dict() == {"2025-01": 1, "2025-02": 2, "2025-03": 1, "2025-04": 1,
                                               "2025-05": 0, "2025-06": 0}  # fmt: skip
    assert team["joined"].sum() == 3 and team.loc["2025-02", "left"] == 1
    assert data.activities["duration_hours"].tolist() == [0.5, 0.75, 1.0, 1.0, 0.25]


def test_aliases_unique_within_a_table():
    for table in TABLES:
        keys = [f.key for f in FIELDS if f.table == table]
        assert len(keys) == len(set(keys))
        for f in FIELDS:
            assert all(normalise(a) for a in f.aliases)
