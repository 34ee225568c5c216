"""User-facing errors: one clear message naming the file, the field and what is allowed."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file or override is not valid; raised before any simulation starts."""

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)


class ConservationError(RuntimeError):
    """A run lost or invented a buyer or a unit of money: a bug in the model, never a user mistake."""


class FieldValueError(ValueError):
    """Raised inside a validator to blame a sub-field: `field` is dotted, relative to the model being validated.

    The loader appends it to the model's location, so the user sees e.g. ``marketing.shares`` rather than
    ``marketing``."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class ExperimentError(RuntimeError):
    """An experiment produced no result at all: every run failed (or could not start), so there is nothing to
    tabulate. The message names the first failure; `errors` (when known) is the experiment's error table."""

    def __init__(self, message: str, errors: object = None) -> None:
        self.errors = errors
        super().__init__(message)
