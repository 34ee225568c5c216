"""Parameter draws carried into an experiment: the parameter sample `simfunnel calibrate` writes
(``<stem>.samples.csv``: one column per dotted scenario field, one row per draw) or any such table.

With ``parameters=`` `compare`, `sweep` and `replicate` run replication ``r`` of *every* scenario or grid point
with the same draw and the same seed child ``r``: common random numbers across scenarios stay, and the intervals
now include parameter uncertainty as well as simulation noise, because every replication is a new (parameters,
random numbers) pair.

Which draw replication ``r`` uses: a permutation of the D rows, drawn from the experiment's root seed (child
`simfunnel.experiments.seeds.DRAWS_KEY`), and replication ``r`` takes row ``perm[r mod D]``. So the first n
replications are a simple random sample of the draws without replacement (a file sorted by a parameter, or a
correlated chain, does not bias a short run), every draw is used equally often when n is a multiple of D, and
replication ``r`` gets the same draw whatever ``n`` is (a precision run that adds replications extends it).

The drawn values replace the scenario's own fields. Every column is checked before any run, like ``--set``: an
unknown field or a non-number is a `ScenarioError` naming the file and the column (with a did-you-mean), and a
column in which the compared scenarios differ is refused (the draws would erase the difference being compared).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simfunnel.errors import FieldValueError, ScenarioError
from simfunnel.experiments.seeds import draws_seed
from simfunnel.scenario import Scenario
from simfunnel.schema.uncertainty import field_of_path, is_integer_field

__all__ = ["INDEX_COLUMNS", "ParameterDraws", "ParametersLike", "as_draws", "read_draws"]

INDEX_COLUMNS = ("draw", "world")
"""Columns of a sample file that label the rows rather than name a field (``draw``: what calibrate writes)."""


@dataclass(frozen=True, eq=False)
class ParameterDraws:
    """A table of parameter draws: ``values`` has one column per dotted field and one row per draw (its index
    labels the draws); ``source`` names where it came from (a file name, or ``"DataFrame"``)."""

    values: pd.DataFrame
    source: str

    @property
    def fields(self) -> tuple[str, ...]:
        """The dotted fields the draws set."""
        return tuple(str(c) for c in self.values.columns)

    def __len__(self) -> int:
        return len(self.values)

    def fingerprint(self) -> str:
        """A short hash of the draws' values (for checkpoint keys; the result cache keys the drawn scenarios)."""
        data = pd.util.hash_pandas_object(self.values, index=False).to_numpy().tobytes()
        return hashlib.sha256(self.values.columns.str.cat(sep="|").encode() + data).hexdigest()[:16]

    def rows(self, root: np.random.SeedSequence, replications: Sequence[int] | range) -> np.ndarray:
        """The row (position, 0..D-1) each replication uses: ``perm[r mod D]`` with a permutation seeded by
        ``root`` (`DRAWS_KEY`), so replication ``r`` gets the same draw whatever the number of replications."""
        perm = np.random.default_rng(draws_seed(root)).permutation(len(self.values))
        return perm[np.asarray(list(replications), dtype=np.int64) % len(self.values)]

    def overrides(self, row: int) -> dict[str, Any]:
        """The field values of one row (position) as Python numbers, ready for `Scenario.with_overrides`."""
        rec = self.values.iloc[int(row)]
        return {str(k): (v.item() if isinstance(v, np.generic) else v) for k, v in rec.items()}

    def label(self, row: int) -> Any:
        """The label of a row (the file's ``draw`` column when it had one, else its position)."""
        v = self.values.index[int(row)]
        return v.item() if isinstance(v, np.generic) else v

    def apply(self, scenario: Scenario, row: int) -> Scenario:
        """``scenario`` with the values of one row; an invalid value raises `ScenarioError` naming the file,
        the draw and the field."""
        try:
            return scenario.with_overrides(self.overrides(row))
        except ScenarioError as exc:
            raise ScenarioError(self.source, exc.field, f"draw {self.label(row)}: {exc.message}") from None

    def check(self, scenarios: Mapping[str, Scenario]) -> None:
        """Refuse (`ScenarioError` naming the file and the column) a column that is not a numeric field of every
        scenario, or in which the scenarios differ."""
        for col in self.fields:
            seen: dict[str, Any] = {}
            for name, sc in scenarios.items():
                try:
                    value, info = field_of_path(sc, col)
                except FieldValueError as exc:
                    raise ScenarioError(self.source, f"column {col!r}", _reworded(exc.message)) from None
                if is_integer_field(value, info) and not np.all(np.mod(self.values[col].to_numpy(float), 1) == 0):
                    raise ScenarioError(
                        self.source, f"column {col!r}", "is a whole-number field; every draw must be whole"
                    )
                seen[name] = value
            if len({repr(v) for v in seen.values()}) > 1:
                where = ", ".join(f"{k} {v!r}" for k, v in seen.items())
                raise ScenarioError(
                    self.source, f"column {col!r}",
                    f"the scenarios differ in this field ({where}): the draws would set it alike in all of them and "
                    "erase the difference being compared; drop the column or compare with a sweep over it",
                )  # fmt: skip

    def check_values(self, scenarios: Mapping[str, Scenario], root: np.random.SeedSequence, n: int) -> None:
        """Every draw the first ``n`` replications use makes every scenario valid, else `ScenarioError`."""
        for row in sorted(set(self.rows(root, range(n)).tolist())):
            for sc in scenarios.values():
                self.apply(sc, row)

    def describe(self) -> str:
        """One line for tables and reports: how many draws of which fields, from where."""
        shown = ", ".join(self.fields[:4]) + (f" and {len(self.fields) - 4} more" if len(self.fields) > 4 else "")
        return f"{len(self)} parameter draws of {shown} from {self.source}"


ParametersLike = ParameterDraws | pd.DataFrame | str | os.PathLike | None
"""What ``parameters=`` accepts: a sample file (.csv or .parquet), a DataFrame of draws, `ParameterDraws`, or None."""


def _reworded(message: str) -> str:
    """`field_of_path` blames ``uncertainty``; here the column is the culprit, so the message stands alone."""
    return message.replace("unknown field path", "unknown field")


def read_draws(path: str | os.PathLike) -> ParameterDraws:
    """The draws of a parameter-sample file (CSV or Parquet; a ``draw`` or ``world`` column labels the rows).

    A missing file raises FileNotFoundError; an unreadable one, no rows, or a column that is not all numbers a
    `ScenarioError` naming the file (and the column)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"parameter-sample file not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        elif suffix == ".csv":
            frame = pd.read_csv(p)
        else:
            raise ScenarioError(str(p), "", "a parameter-sample file must end in .csv or .parquet")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(str(p), "", f"cannot be read: {exc}") from None
    return as_draws(frame, source=str(p))


def as_draws(parameters: ParametersLike, source: str = "DataFrame") -> ParameterDraws | None:
    """`ParameterDraws` from whatever ``parameters=`` was given (None stays None)."""
    if parameters is None or isinstance(parameters, ParameterDraws):
        return parameters
    if isinstance(parameters, str | os.PathLike):
        return read_draws(parameters)
    if not isinstance(parameters, pd.DataFrame):
        raise TypeError(
            f"parameters must be a sample file, a DataFrame or ParameterDraws, got {type(parameters).__name__}"
        )
    frame = parameters.copy()
    index = [c for c in INDEX_COLUMNS if c in frame.columns]
    if index:
        frame = frame.set_index(index[0]).drop(columns=index[1:])
    if frame.empty or not len(frame.columns):
        raise ScenarioError(source, "", "the parameter sample has no rows or no field columns")
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]) or frame[col].isna().any():
            raise ScenarioError(source, f"column {col!r}", "every value must be a number (no blanks)")
    return ParameterDraws(frame, source)
