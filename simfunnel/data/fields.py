"""The canonical CRM columns `read_crm` produces and the export headers of common CRMs it recognises for each.

A header matches an alias after normalisation (lower case, only letters and digits), so ``CreatedDate``,
``Created Date``, ``created_date`` and ``created-date`` are the same header. The first alias that matches wins;
a mapping file (`simfunnel.data.mapping`) overrides any of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TABLES = ("leads", "deals", "activities")
"""The three tables of a CRM export, in reading order."""


@dataclass(frozen=True)
class Field:
    """One canonical column: its table, key (the mapping key and the canonical column name), kind, whether the
    table is unusable without it, what it means, and the export headers recognised for it, by CRM."""

    table: str
    key: str
    kind: str  # id, date, text, number, bool, list
    required: bool
    description: str
    salesforce: tuple[str, ...] = ()
    hubspot: tuple[str, ...] = ()
    pipedrive: tuple[str, ...] = ()
    generic: tuple[str, ...] = ()

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every recognised header, in matching order (the key itself first)."""
        seen: dict[str, None] = {self.key: None}
        for name in (*self.salesforce, *self.hubspot, *self.pipedrive, *self.generic):
            seen.setdefault(name, None)
        return tuple(seen)


F = Field
FIELDS: tuple[Field, ...] = (
    # ---------------------------------------------------------------------------------------------- leads
    F("leads", "lead_id", "id", True, "unique id of the lead (or contact, person)",
      ("Id", "LeadId"), ("Record ID", "Contact ID"), ("ID", "Person ID", "Lead ID"), ("id",)),
    F("leads", "created", "date", True, "when the lead was created or first contacted us",
      ("CreatedDate",), ("Create Date",), ("Lead created", "Person created", "Add time"),
      ("created", "created_at", "first_contact", "first_contact_date", "date")),
    F("leads", "channel", "text", False, "channel or origin of the lead; empty, 'unknown', 'n/a' -> 'unknown'",
      ("LeadSource", "Lead Source"), ("Original Source", "Original Source Type", "Latest Source"),
      ("Source", "Lead source", "Source origin"), ("origin", "utm_source", "marketing_channel")),
    F("leads", "mql_date", "date", False, "when marketing qualified the lead (MQL), if recorded",
      ("MQL_Date__c", "MQLDate"), ("Became a Marketing Qualified Lead Date", "Became an MQL Date"), (),
      ("mql", "mql_at")),
    F("leads", "owner", "text", False, "sales owner (rep) of the lead",
      ("OwnerId", "Owner", "Lead Owner"), ("Contact owner", "HubSpot Owner"), ("Owner", "Owner name"),
      ("rep", "owner_name", "sales_rep")),
    F("leads", "deal_id", "id", False, "the deal this lead became, where the lead table records it",
      ("ConvertedOpportunityId",), ("Associated Deal", "Associated Deal IDs", "Associated Deals"), ("Deal ID",),
      ("opportunity_id", "converted_deal_id")),
    # ---------------------------------------------------------------------------------------------- deals
    F("deals", "deal_id", "id", True, "unique id of the deal (opportunity)",
      ("Id", "OpportunityId"), ("Record ID", "Deal ID"), ("ID", "Deal ID"), ("id", "opportunity_id")),
    F("deals", "lead_id", "id", False, "the lead this deal came from, where known",
      ("ConvertedFromLeadId", "LeadId", "ContactId"), ("Associated Contact", "Associated Contact IDs",
      "Associated Contacts"), ("Person ID", "Contact person ID", "Lead ID"), ("contact_id", "person_id")),
    F("deals", "owner", "list", False, "owner(s) of the deal; several separated by ';' (mapping: owner_separator)",
      ("OwnerId", "Owner", "Opportunity Owner"), ("Deal owner", "HubSpot Owner"), ("Owner", "Owner name"),
      ("owners", "rep", "owner_name", "sales_rep")),
    F("deals", "opened", "date", True, "when the deal was opened (sales engaged, SQL)",
      ("CreatedDate",), ("Create Date",), ("Deal created", "Add time"),
      ("created", "created_at", "opened_at", "sql_date", "engaged")),
    F("deals", "closed", "date", False, "when the deal was won or lost (ignored while the deal is open)",
      ("CloseDate",), ("Close Date",), ("Deal closed on", "Close time"), ("closed_at", "close")),
    F("deals", "outcome", "text", False, "won, lost or open (also: status, closed won/lost, win/loss)",
      (), (), ("Status",), ("result", "deal_status", "status")),
    F("deals", "stage", "text", False, "pipeline stage; 'won'/'lost' in its name decide the outcome",
      ("StageName", "Stage"), ("Deal Stage", "Pipeline Stage"), ("Stage",), ("deal_stage", "dealstage")),
    F("deals", "is_won", "bool", False, "true if won (with is_closed: the outcome)",
      ("IsWon",), ("Is Closed Won",), (), ("won",)),
    F("deals", "is_closed", "bool", False, "true if won or lost", ("IsClosed",), ("Is Deal Closed?",), (), ()),
    F("deals", "won_date", "date", False, "when the deal was won (sets the outcome and close date)",
      (), (), ("Won time",), ("won_at",)),
    F("deals", "lost_date", "date", False, "when the deal was lost (sets the outcome and close date)",
      (), (), ("Lost time",), ("lost_at",)),
    F("deals", "value", "number", False, "deal value (currency symbols and thousands separators are removed)",
      ("Amount",), ("Amount", "Amount in company currency"), ("Value", "Deal value"), ("amount", "revenue")),
    F("deals", "loss_reason", "text", False, "why the deal was lost",
      ("Loss_Reason__c", "Closed_Lost_Reason__c", "Loss Reason"), ("Closed Lost Reason",), ("Lost reason",),
      ("lost_reason", "reason")),
    # ----------------------------------------------------------------------------------------- activities
    F("activities", "owner", "text", True, "who did the activity (rep)",
      ("OwnerId", "Assigned", "Assigned To"), ("Activity assigned to", "Assigned to", "HubSpot Owner"),
      ("Assigned to user", "User", "Owner"), ("rep", "owner_name", "user")),
    F("activities", "start", "date", True, "when the activity started (date, or date and time)",
      ("ActivityDateTime", "StartDateTime", "ActivityDate"), ("Activity date", "Create Date"),
      ("Due date", "Add time", "Marked as done time"), ("start_time", "started_at", "timestamp", "date")),
    F("activities", "end", "date", False, "when it ended", ("EndDateTime",), (), (), ("end_time", "ended_at")),
    F("activities", "duration_minutes", "number", False, "duration in minutes (or HH:MM)",
      ("DurationInMinutes", "CallDurationInSeconds"), ("Call duration", "Duration"), ("Duration",),
      ("minutes",)),
    F("activities", "duration_hours", "number", False, "duration in hours", (), (), (), ("hours",)),
    F("activities", "type", "text", False, "kind of activity (call, email, meeting, ...)",
      ("Type", "TaskSubtype"), ("Activity type", "Engagement type"), ("Type",), ("kind", "activity_type")),
    F("activities", "lead_id", "id", False, "the lead the activity was about", ("WhoId",),
      ("Associated Contact",), ("Person ID",), ("contact_id",)),
    F("activities", "deal_id", "id", False, "the deal the activity was about", ("WhatId",),
      ("Associated Deal",), ("Deal ID",), ("opportunity_id",)),
)  # fmt: skip
"""Every canonical column, by table (the docs hook renders this table)."""


def normalise(header: str) -> str:
    """A header as matched: lower case, letters and digits only ('Created Date' -> 'createddate')."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


def table_fields(table: str) -> tuple[Field, ...]:
    """The fields of one table, in order."""
    return tuple(f for f in FIELDS if f.table == table)


def field(table: str, key: str) -> Field:
    """The field `key` of `table` (KeyError if there is none)."""
    for f in FIELDS:
        if f.table == table and f.key == key:
            return f
    raise KeyError(f"{table}.{key}")


MISSING_CHANNEL_TOKENS = frozenset(
    {"", "unknown", "n/a", "na", "none", "null", "nan", "-", "--", "?", "(none)", "(unknown)", "not set", "(not set)"}
)
"""Channel values read as 'no channel recorded' (lower case); they all become `UNKNOWN_CHANNEL`."""

UNKNOWN_CHANNEL = "unknown"
"""The one explicit category of leads without a usable channel."""

OUTCOME_WORDS: dict[str, str] = {
    "won": "won", "closed won": "won", "closedwon": "won", "win": "won", "closed/won": "won", "closed - won": "won",
    "lost": "lost", "closed lost": "lost", "closedlost": "lost", "loss": "lost", "closed/lost": "lost",
    "closed - lost": "lost", "open": "open", "in progress": "open", "active": "open", "pending": "open",
}  # fmt: skip
"""Outcome column values (lower case) and what they mean; other values are pipeline stages: open."""

OUTCOMES = ("won", "lost", "open")


def fields_markdown() -> str:
    """The canonical columns and their recognised headers as a Markdown table (rendered in the docs)."""

    def cell(names: tuple[str, ...]) -> str:
        return ", ".join(f"`{n}`" for n in names) or "-"

    rows = ["| table | key | kind | required | meaning | Salesforce | HubSpot | Pipedrive | other |",
            "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for f in FIELDS:
        rows.append(f"| {f.table} | `{f.key}` | {f.kind} | {'yes' if f.required else ''} | {f.description} | "
                    f"{cell(f.salesforce)} | {cell(f.hubspot)} | {cell(f.pipedrive)} | {cell(f.generic)} |")  # fmt: skip
    return "\n".join(rows) + "\n"
