"""Deprecated: use `simfunnel.experiments.executors` (this module re-exports it, including old private names)."""

from simfunnel.experiments.executors import (
    DEAD_WORKER,
    EXECUTORS,
    DaskExecutor,
    ExecutorName,
    OnDone,
    Outcome,
    ProcessExecutor,
    Runner,
    SerialExecutor,
    Task,
    TaskExecutor,
    default_workers,
    executor_scope,
    flatten_summary,
    open_executor,
    run_task,
    run_tasks,
    simulate_summary,
)
from simfunnel.experiments.seeds import fresh_seed

_simulate_summary = simulate_summary
_fresh = fresh_seed

__all__ = [
    "DEAD_WORKER",
    "EXECUTORS",
    "DaskExecutor",
    "ExecutorName",
    "OnDone",
    "Outcome",
    "ProcessExecutor",
    "Runner",
    "SerialExecutor",
    "Task",
    "TaskExecutor",
    "default_workers",
    "executor_scope",
    "flatten_summary",
    "open_executor",
    "run_task",
    "run_tasks",
]
