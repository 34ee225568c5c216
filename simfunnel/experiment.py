"""Deprecated: use `simfunnel.experiments` (this module forwards to it, including the old private names).

The experiment layer moved into the package `simfunnel.experiments`: `replicate`/`compare` (.replicate),
`sweep` (.sweep), `attribute` (.attribution), `optimize_budget`/`best_splits` (.budget), `Experiment` (.runs),
seeds (.seeds), statistics (.statistics), `RunOptions` (.options).
"""

from simfunnel.compat import forward

_PARTS = ("attribution", "budget", "checkpoint", "options", "replicate", "runs", "seeds", "statistics", "sweep")
_OLD = ("Point", "check_n", "as_scenario", "execute", "tables", "summarize", "finish", "half_widths",
        "welch_half_width", "paired_diffs", "grid_points", "point_key", "Checkpoint", "pid_alive", "BudgetEvaluator")  # fmt: skip
__getattr__, __dir__ = forward(
    ["simfunnel.experiments", *(f"simfunnel.experiments.{part}" for part in _PARTS)],
    {f"_{name}": name for name in _OLD}
    | {name: f"simfunnel.experiments.runs:{name}" for name in ("RUN_COLUMNS", "SUMMARY_COLUMNS")},
)
