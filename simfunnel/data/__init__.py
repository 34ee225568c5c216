"""A firm's CRM data in and out: `read_crm` reads leads, deals and activities exports (CSV, Parquet, Excel) into
canonical tables with a data-quality summary; `export_crm` and `event_log` write what a simulated firm's CRM
and process log would hold. The base of calibrating a scenario to a firm's own data (issue 12)."""

from simfunnel.data.eventlog import event_log, write_event_log
from simfunnel.data.export import MESSY_KEYS, CrmExport, crm_tables, export_crm
from simfunnel.data.fields import FIELDS, UNKNOWN_CHANNEL, Field
from simfunnel.data.mapping import Mapping, load_mapping
from simfunnel.data.quality import QUALITY_COLUMNS, CrmDataError, format_quality
from simfunnel.data.reader import ACTIVITY_COLUMNS, DEAL_COLUMNS, LEAD_COLUMNS, CrmData, read_crm

__all__ = [
    "MESSY_KEYS",
    "CrmExport",
    "crm_tables",
    "event_log",
    "export_crm",
    "write_event_log",
    "ACTIVITY_COLUMNS",
    "DEAL_COLUMNS",
    "FIELDS",
    "LEAD_COLUMNS",
    "QUALITY_COLUMNS",
    "UNKNOWN_CHANNEL",
    "CrmData",
    "CrmDataError",
    "Field",
    "Mapping",
    "format_quality",
    "load_mapping",
    "read_crm",
]
