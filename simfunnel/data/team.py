"""The sales team over time, from the data alone: an owner is active from the month of their first recorded
activity to the month of their last (activities if exported, else the leads and deals they own), so owners who
join and leave show up as a team size that changes month by month."""

from __future__ import annotations

import pandas as pd

from simfunnel.data.quality import QualityLog

TEAM_COLUMNS = ("month", "active_owners", "joined", "left", "leads", "deals_opened")


def owner_spans(leads: pd.DataFrame, deals: pd.DataFrame | None, activities: pd.DataFrame | None,
                separator: str) -> pd.DataFrame:  # fmt: skip
    """First and last dated record of each owner: columns owner, first, last."""
    parts: list[pd.DataFrame] = []
    if activities is not None and "owner" in activities:
        parts.append(activities[["owner", "start"]].rename(columns={"start": "day"}))
    else:
        if "owner" in leads:
            parts.append(leads[["owner", "created"]].rename(columns={"created": "day"}))
        if deals is not None and "owner" in deals:
            for col in ("opened", "closed"):
                one = deals[["owner", col]].rename(columns={col: "day"})
                one = one.assign(owner=one["owner"].str.split(separator)).explode("owner")
                parts.append(one.assign(owner=one["owner"].str.strip()))
    if not parts:
        return pd.DataFrame({"owner": pd.Series(dtype="string"), "first": pd.Series(dtype="datetime64[us]"),
                             "last": pd.Series(dtype="datetime64[us]")})  # fmt: skip
    days = pd.concat(parts, ignore_index=True).dropna()
    days = days[days["owner"] != ""]
    spans = days.groupby("owner")["day"].agg(first="min", last="max").reset_index()
    return spans.sort_values(["first", "owner"]).reset_index(drop=True)


def team_by_month(spans: pd.DataFrame, leads: pd.DataFrame, deals: pd.DataFrame | None,
                  export_date: pd.Timestamp) -> pd.DataFrame:  # fmt: skip
    """One row per calendar month from the first lead (or owner record) to the export date: owners active,
    joined and left that month, leads created and deals opened."""
    starts = [leads["created"].min(), spans["first"].min() if len(spans) else pd.NaT]
    start = min(s for s in starts if pd.notna(s)) if any(pd.notna(s) for s in starts) else export_date
    months = pd.period_range(start.to_period("M"), export_date.to_period("M"), freq="M")
    first_m = spans["first"].dt.to_period("M")
    last_m = spans["last"].dt.to_period("M")
    # the last month any owner was active: the end of the data (an export dated the 1st adds an empty month)
    final = last_m.max() if len(last_m) else (months[-1] if len(months) else None)
    lead_m = leads["created"].dt.to_period("M").value_counts()
    deal_m = deals["opened"].dt.to_period("M").value_counts() if deals is not None else pd.Series(dtype="int64")
    rows = [
        {
            "month": m.to_timestamp(),
            "active_owners": int(((first_m <= m) & (last_m >= m)).sum()),
            "joined": int((first_m == m).sum()),
            "left": int(((last_m == m) & (m != final)).sum()),
            "leads": int(lead_m.get(m, 0)),
            "deals_opened": int(deal_m.get(m, 0)),
        }
        for m in months
    ]
    return pd.DataFrame(rows, columns=list(TEAM_COLUMNS))


def check_team(spans: pd.DataFrame, leads: pd.DataFrame, files: dict[str, str], log: QualityLog) -> None:
    """Report owners who join or leave inside the data and leads created before any owner was active (they
    waited for a sales team that did not exist yet); flags those leads ``before_team``."""
    source = files.get("activities") or files.get("deals") or files["leads"]
    if spans.empty:
        leads["before_team"] = False
        log.note("no owner column", source, "team size over time unknown (team_by_month has no owners)")
        return
    # joining and leaving are judged against the owners' own first and last months of activity (an export dated the
    # 1st of a month adds a month nobody worked in; leads before any owner are the before_team check below)
    first_m, last_m = spans["first"].dt.to_period("M"), spans["last"].dt.to_period("M")
    joined = first_m > first_m.min()
    left = last_m < last_m.max()
    moving = joined | left
    example = ""
    if moving.any():
        row = spans.loc[moving].iloc[0]
        example = f"owner {row['owner']}: {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d}"
    log.add("owners joining or leaving (owners)", source, int(moving.sum()),
            "team size per month from first/last activity (team_by_month)", example)  # fmt: skip
    team_start = spans["first"].min().to_period("M").to_timestamp()
    early = leads["created"] < team_start
    leads["before_team"] = early.to_numpy()
    ex = ""
    if early.any():
        row = leads.loc[early].iloc[0]
        ex = f"line {row['line']}: lead_id={row['lead_id']}, created={row['created']:%Y-%m-%d}"
    log.add("lead before any sales owner was active", files["leads"], int(early.sum()),
            f"kept; flagged before_team (first owner active {team_start:%Y-%m})", ex)  # fmt: skip
