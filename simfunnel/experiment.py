"""Deprecated: use `simfunnel.experiments` (this module re-exports it, including the old private names).

The experiment layer moved into the package `simfunnel.experiments`: `replicate`/`compare` (.replicate),
`sweep` (.sweep), `attribute` (.attribution), `optimize_budget`/`best_splits` (.budget), `Experiment` (.runs),
seeds (.seeds), statistics (.statistics), `RunOptions` (.options).
"""

from simfunnel.experiments.attribution import Attribution, Lever, attribute
from simfunnel.experiments.budget import BudgetEvaluator, BudgetResult, best_splits, optimize_budget
from simfunnel.experiments.checkpoint import Checkpoint, pid_alive, point_key
from simfunnel.experiments.options import ExecutionKwargs, RunOptions
from simfunnel.experiments.replicate import DIFF_COLUMNS, compare, paired_diffs, replicate
from simfunnel.experiments.runs import (
    DEFAULT_N,
    RUN_COLUMNS,
    SUMMARY_COLUMNS,
    Experiment,
    Point,
    ScenarioLike,
    as_scenario,
    check_n,
    execute,
    finish,
    summarize,
    tables,
)
from simfunnel.experiments.seeds import PERMUTATION_KEY, SeedLike, child_seed, root_seed
from simfunnel.experiments.statistics import half_widths, mean_ci, t_quantile_975, welch_half_width
from simfunnel.experiments.sweep import grid_points, sweep

# The old private names, for code written against the single module.
_Point = Point
_check_n = check_n
_as_scenario = as_scenario
_execute = execute
_tables = tables
_summarize = summarize
_finish = finish
_half_widths = half_widths
_welch_half_width = welch_half_width
_paired_diffs = paired_diffs
_grid_points = grid_points
_point_key = point_key
_Checkpoint = Checkpoint
_pid_alive = pid_alive
_BudgetEvaluator = BudgetEvaluator

__all__ = [
    "DEFAULT_N",
    "DIFF_COLUMNS",
    "PERMUTATION_KEY",
    "RUN_COLUMNS",
    "SUMMARY_COLUMNS",
    "Attribution",
    "BudgetResult",
    "ExecutionKwargs",
    "Experiment",
    "Lever",
    "RunOptions",
    "ScenarioLike",
    "SeedLike",
    "attribute",
    "best_splits",
    "child_seed",
    "compare",
    "mean_ci",
    "optimize_budget",
    "replicate",
    "root_seed",
    "sweep",
    "t_quantile_975",
]
