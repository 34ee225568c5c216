"""The experiment layer of simfunnel: many runs of the model, with seeds, statistics, executors and a cache.

- `replicate`, `compare` (`simfunnel.experiments.replicate`), `sweep` (`.sweep`), `attribute` (`.attribution`),
  `optimize_budget`, `best_splits` (`.budget`) - each takes ``options: RunOptions | None`` (`.options`; the
  keywords ``executor=``, ``workers=``, ``address=``, ``client=``, ``progress=``, ``cache=`` still work);
- results: `Experiment` (`.runs`), `Attribution`, `BudgetResult`; no run succeeded: `ExperimentError`;
- parameter draws (`.draws`): ``parameters=`` of `compare`, `sweep`, `replicate` (e.g. calibrate's
  ``.samples.csv``) - replication ``i`` of every scenario runs with the same draw;
- seeds (`.seeds`): `root_seed`, `child_seed` - replication ``i`` of every scenario gets child ``i``;
- statistics (`.statistics`): `t_quantile_975`, `mean_ci`;
- where runs execute (`.executors`): serial (default), a process pool, Dask; results never depend on it;
- the on-disk result cache (`.cache`) and progress display (`.progress`).
"""

from simfunnel.errors import ExperimentError
from simfunnel.experiments.attribution import Attribution, Lever, attribute
from simfunnel.experiments.budget import BudgetResult, best_splits, optimize_budget
from simfunnel.experiments.cache import CacheLike, ResultCache
from simfunnel.experiments.draws import ParameterDraws, ParametersLike, read_draws
from simfunnel.experiments.executors import (
    DaskExecutor,
    ExecutorName,
    ProcessExecutor,
    SerialExecutor,
    TaskExecutor,
)
from simfunnel.experiments.options import ExecutionKwargs, RunOptions
from simfunnel.experiments.replicate import DIFF_COLUMNS, compare, replicate
from simfunnel.experiments.runs import DEFAULT_N, Experiment, ScenarioLike
from simfunnel.experiments.seeds import SeedLike, child_seed, root_seed
from simfunnel.experiments.statistics import mean_ci, t_quantile_975
from simfunnel.experiments.sweep import Grid, sweep

__all__ = [
    "DEFAULT_N",
    "DIFF_COLUMNS",
    "Attribution",
    "BudgetResult",
    "CacheLike",
    "DaskExecutor",
    "ExecutionKwargs",
    "ExecutorName",
    "Experiment",
    "ExperimentError",
    "Grid",
    "Lever",
    "ParameterDraws",
    "ParametersLike",
    "ProcessExecutor",
    "ResultCache",
    "RunOptions",
    "ScenarioLike",
    "SeedLike",
    "SerialExecutor",
    "TaskExecutor",
    "attribute",
    "best_splits",
    "child_seed",
    "compare",
    "mean_ci",
    "optimize_budget",
    "read_draws",
    "replicate",
    "root_seed",
    "sweep",
    "t_quantile_975",
]
