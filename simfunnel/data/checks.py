"""The data-quality checks of a canonical CRM table: each finds one kind of mess, fixes what can be fixed in a
stated way, and records rows affected, action and an example row in the `QualityLog`."""

from __future__ import annotations

import pandas as pd

from simfunnel.data.fields import MISSING_CHANNEL_TOKENS, OUTCOME_WORDS, UNKNOWN_CHANNEL
from simfunnel.data.mapping import Mapping
from simfunnel.data.quality import QualityLog, example_row


def _example(frame: pd.DataFrame, mask: pd.Series, cols: list[str]) -> str:
    return example_row(frame.drop(columns=["line"]).assign(_line=frame["line"]), mask, cols)


def deduplicate(frame: pd.DataFrame, id_col: str, file: str, log: QualityLog) -> pd.DataFrame:
    """Rows without an id get 'line<N>'; repeated ids keep their first row (identical copies and conflicting
    rows are reported apart)."""
    missing = frame[id_col].isna()
    if missing.any():
        frame.loc[missing, id_col] = "line" + frame.loc[missing, "line"].astype(str)
        log.add("missing id", file, int(missing.sum()), f"kept with {id_col} 'line<N>'",
                _example(frame, missing, [id_col]))  # fmt: skip
    dup = frame.duplicated(id_col, keep="first")
    if not dup.any():
        return frame
    content = [c for c in frame.columns if c != "line"]
    same = frame.duplicated(content, keep="first")
    cols = [id_col, *content[1:4]]
    log.add("duplicated id (identical rows)", file, int((dup & same).sum()), "dropped the copies",
            _example(frame, dup & same, cols))  # fmt: skip
    log.add("duplicated id (different content)", file, int((dup & ~same).sum()),
            "kept the first row of each id", _example(frame, dup & ~same, cols))  # fmt: skip
    return frame.loc[~dup].reset_index(drop=True)


def clean_channels(leads: pd.DataFrame, file: str, mapping: Mapping, log: QualityLog) -> None:
    """Empty, 'unknown', 'n/a' (and the mapping's missing_channel words) -> the one category 'unknown'."""
    if "channel" not in leads:
        leads["channel"] = pd.Series([UNKNOWN_CHANNEL] * len(leads), dtype="string")
        log.note("no channel column", file, f"every lead in channel {UNKNOWN_CHANNEL!r}")
        return
    tokens = MISSING_CHANNEL_TOKENS | set(mapping.missing_channel)
    low = leads["channel"].fillna("").str.lower()
    missing = low.isin(tokens).astype(bool)
    log.add("missing or unknown channel", file, int(missing.sum()), f"channel set to {UNKNOWN_CHANNEL!r}",
            _example(leads, missing, ["lead_id", "channel"]))  # fmt: skip
    leads.loc[missing, "channel"] = UNKNOWN_CHANNEL


def drop_undated(frame: pd.DataFrame, date_col: str, id_col: str, file: str, log: QualityLog) -> pd.DataFrame:
    """Rows without their required date cannot be placed in time: dropped and reported."""
    missing = frame[date_col].isna()
    log.add(f"missing {date_col} date", file, int(missing.sum()), "dropped (cannot be placed in time)",
            _example(frame, missing, [id_col, date_col]))  # fmt: skip
    return frame.loc[~missing].reset_index(drop=True)


def _word_outcome(values: pd.Series, mapping: Mapping, stage: bool) -> pd.Series:
    """won/lost/open from a status or stage column; NA where the column does not say (an unknown status)."""
    words = {**OUTCOME_WORDS, **mapping.outcomes}

    def one(v: object) -> object:
        if v is pd.NA or v is None:
            return pd.NA
        s = str(v).strip().lower()
        if s in words:
            return words[s]
        if stage:
            return "won" if "won" in s else "lost" if "lost" in s else "open"
        return pd.NA

    return pd.Series([one(v) for v in values.tolist()], dtype="string", index=values.index)


def derive_outcome(deals: pd.DataFrame, file: str, mapping: Mapping, log: QualityLog) -> None:
    """``outcome`` (won/lost/open) from, in this order: the outcome/status column, is_won with is_closed, the
    stage name, won/lost dates; ``closed`` filled from won/lost dates. No evidence at all: open, reported."""
    outcome = pd.Series(pd.NA, index=deals.index, dtype="string")
    if "outcome" in deals:
        outcome = _word_outcome(deals["outcome"], mapping, stage=False)
    if "is_won" in deals:
        closed = deals["is_closed"] if "is_closed" in deals else deals["is_won"]
        flags = pd.Series(pd.NA, index=deals.index, dtype="string")
        flags[(closed == True) & (deals["is_won"] == True)] = "won"  # noqa: E712 - nullable booleans
        flags[(closed == True) & (deals["is_won"] == False)] = "lost"  # noqa: E712
        flags[closed == False] = "open"  # noqa: E712
        outcome = outcome.fillna(flags)
    if "stage" in deals:
        outcome = outcome.fillna(_word_outcome(deals["stage"], mapping, stage=True))
    for key, word in (("won_date", "won"), ("lost_date", "lost")):
        if key in deals:
            outcome = outcome.fillna(pd.Series(word, index=deals.index, dtype="string").where(deals[key].notna()))
            if "closed" not in deals:
                deals["closed"] = pd.Series(pd.NaT, index=deals.index, dtype="datetime64[us]")
            deals["closed"] = deals["closed"].fillna(deals[key].where(outcome == word))
    unknown = outcome.isna()
    log.add("deal outcome not recorded", file, int(unknown.sum()), "treated as open",
            _example(deals, unknown, ["deal_id", "stage", "outcome"]))  # fmt: skip
    deals["outcome"] = outcome.fillna("open")
    if "closed" not in deals:
        deals["closed"] = pd.Series(pd.NaT, index=deals.index, dtype="datetime64[us]")


def check_closing(deals: pd.DataFrame, file: str, log: QualityLog) -> None:
    """Open deals carry no close date (a CRM's expected close date is not one); a close date before the open date
    becomes the open date; a closed deal without a close date is reported."""
    is_open = deals["outcome"] == "open"
    planned = is_open & deals["closed"].notna()
    log.add("close date on an open deal", file, int(planned.sum()), "ignored (an expected close date)",
            _example(deals, planned, ["deal_id", "opened", "closed"]))  # fmt: skip
    deals.loc[planned, "closed"] = pd.NaT
    before = deals["closed"] < deals["opened"]
    log.add("close date before open date", file, int(before.sum()), "close date set to the open date",
            _example(deals, before, ["deal_id", "opened", "closed"]))  # fmt: skip
    deals.loc[before, "closed"] = deals.loc[before, "opened"]
    undated = ~is_open & deals["closed"].isna()
    log.add("closed deal without close date", file, int(undated.sum()), "kept; its duration is unknown",
            _example(deals, undated, ["deal_id", "outcome", "opened"]))  # fmt: skip


def check_values(deals: pd.DataFrame, file: str, log: QualityLog) -> None:
    """A won deal without a value counts as a win with value 0 in revenue (reported)."""
    if "value" not in deals:
        deals["value"] = float("nan")
        log.note("no value column", file, "deal values unknown (revenue cannot be estimated)")
        return
    novalue = (deals["outcome"] == "won") & deals["value"].isna()
    log.add("won deal without value", file, int(novalue.sum()), "kept; value empty (0 in revenue)",
            _example(deals, novalue, ["deal_id", "outcome", "value"]))  # fmt: skip


def link_leads(leads: pd.DataFrame, deals: pd.DataFrame, files: tuple[str, str], log: QualityLog) -> None:
    """Fill deals' lead_id from leads' deal_id where only the lead side records the link; flag deals whose lead
    is missing (``lead_found``) and set each lead's ``deal_id``."""
    if "lead_id" not in deals:
        deals["lead_id"] = pd.Series(pd.NA, index=deals.index, dtype="string")
    if "deal_id" in leads:
        by_deal = leads.dropna(subset=["deal_id"]).drop_duplicates("deal_id").set_index("deal_id")["lead_id"]
        deals["lead_id"] = deals["lead_id"].fillna(deals["deal_id"].map(by_deal)).astype("string")
    no_id = deals["lead_id"].isna()
    log.add("deal without a lead id", files[1], int(no_id.sum()), "kept; lead_found = false (channel unknown)",
            _example(deals, no_id, ["deal_id", "lead_id"]))  # fmt: skip
    dangling = ~no_id & ~deals["lead_id"].isin(set(leads["lead_id"].dropna()))
    log.add("deal's lead not in the leads file", files[1], int(dangling.sum()),
            "kept; lead_found = false (channel unknown)", _example(deals, dangling, ["deal_id", "lead_id"]))  # fmt: skip
    deals["lead_found"] = ~(no_id | dangling)
    first_deal = deals.dropna(subset=["lead_id"]).drop_duplicates("lead_id").set_index("lead_id")["deal_id"]
    leads["deal_id"] = leads["lead_id"].map(first_deal).astype("string")


def censor(deals: pd.DataFrame, export_date: pd.Timestamp, file: str, log: QualityLog) -> None:
    """Open deals at the export date are right-censored (``censored``); dates after it are reported."""
    deals["censored"] = deals["outcome"] == "open"
    log.add("open deal at the export date (right-censored)", file, int(deals["censored"].sum()),
            f"kept open; outcome unknown at {export_date:%Y-%m-%d} (censored = true)",
            _example(deals, deals["censored"], ["deal_id", "opened", "outcome"]))  # fmt: skip


def check_future(frame: pd.DataFrame, dates: list[str], export_date: pd.Timestamp, file: str, log: QualityLog) -> None:
    """Rows dated after the export date (a wrong export date, or planned dates) are reported and kept."""
    late = pd.Series(False, index=frame.index)
    for col in dates:
        if col in frame:
            late |= (frame[col] > export_date).fillna(False)
    log.add("date after the export date", file, int(late.sum()), "kept (check the export date)",
            _example(frame, late, [c for c in dates if c in frame]))  # fmt: skip
