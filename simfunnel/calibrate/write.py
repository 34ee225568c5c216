"""Write a `Calibration`: a scenario TOML that ``extends`` the base with every fitted field commented (estimate,
90 % interval, data source), non-identified parameters listed as comments only, and a parameter-sample CSV (one
column per dotted field, one row per draw) next to it."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

from simfunnel.calibrate.estimate import Estimate
from simfunnel.calibrate.moments import MOMENTS
from simfunnel.calibrate.run import Calibration
from simfunnel.formatting import format_value


def extends_path(base: str, out_dir: Path) -> str:
    """What ``extends`` must say for `base` (a file or preset:NAME) in a file written to `out_dir`: a shipped
    preset by its name (it survives a reinstall), a file relative to `out_dir` (absolute when on another drive)."""
    from simfunnel.presets import is_preset, preset_path

    if is_preset(base):
        preset_path(base)  # a clear error for an unknown preset
        return str(base)
    target = Path(base).resolve()
    try:
        return os.path.relpath(target, out_dir.resolve())
    except ValueError:  # another drive (Windows)
        return str(target)


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "inf" if math.isinf(v) else repr(float(f"{v:.6g}"))
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list | tuple):
        return "[\n" + "".join(f"    {_toml_value(x)},\n" for x in v) + "]"
    return json.dumps(str(v))


def estimate_number(v: float) -> str:
    """An estimate or bound as the written scenario and the CLI show it: '2,315', '0.2631', '-2.737'."""
    return format_value(v, "") if abs(v) >= 1000 else f"{v:.4g}"


def _interval(e: Estimate) -> str:
    return f"{estimate_number(e.value)} (90 % interval {estimate_number(e.low)} to {estimate_number(e.high)})"


def _field_comments(cal: Calibration) -> dict[str, list[str]]:
    """Comment lines per written override key: each estimate feeding it, with interval and source."""
    out: dict[str, list[str]] = {}
    for e in cal.estimates():
        if not e.field or e.status == "not identified":
            continue
        key = (
            e.field.rsplit(".", 1)[0]
            if e.field.endswith((".mean", ".sd")) and e.field not in cal.overrides
            else e.field
        )
        label = e.field.rsplit(".", 1)[1] if key != e.field else ""
        what = "fitted" if e.status == "fitted" else "estimated"
        text = f"{what}{' ' + label if label else ''}: {_interval(e)}; from {e.source}"
        if e.note and e.status != "fitted":
            text += f"; {e.note}"
        out.setdefault(key, []).append(text)
    return out


def _month(start: object, day: float) -> str:
    import pandas as pd

    return f"{pd.Timestamp(start) + pd.Timedelta(days=day):%Y-%m}"


def history_comments(cal: Calibration) -> dict[str, list[str]]:
    """Comment lines of the learned history per written key (sales.reps and the plans)."""
    h, start = cal.history, cal.direct.start
    if h is None:
        return {}
    end = f"the export date (day {cal.direct.span_days:.0f})"
    out: dict[str, list[str]] = {}
    if h.reps > 0:
        out["sales.reps"] = [f"observed in the data: the team at the start of the history, {h.reps} reps; from "
                             f"{h.team_source}"]  # fmt: skip
    if h.headcount_plan:
        steps = "; ".join(f"{s['reps']} reps from {_month(start, s['day'])}" for s in h.headcount_plan)
        out["sales.headcount_plan"] = [
            f"observed in the data: {h.reps} reps at the start; {steps}; from {h.team_source}",
            f"FORECAST: after {end} the last step ({h.headcount_plan[-1]['reps']} reps) holds unless you edit this plan",
        ]  # fmt: skip
    if h.budget_plan:
        steps = "; ".join(f"{v.ratio:.2f} x from {v.month:%Y-%m}" for v in h.volume)
        out["marketing.budget_plan"] = [
            f"observed in the data: leads per month stepped {steps}; from {h.volume_source}",
            "the budget steps are the model's knob for that lead volume (placed up to a few months before the "
            "observed step, as leads lag the spend), not the firm's spend: set your own budget and plan if you know them",
            f"FORECAST: after {end} the last step (budget {estimate_number(h.budget_plan[-1]['budget_per_year'])}) holds "
            "unless you edit this plan",
        ]  # fmt: skip
    return out


def _history_header(cal: Calibration) -> list[str]:
    h = cal.history
    if h is None:
        return ["# History: not learned (--history off): one team and one smooth lead volume for the whole history."]
    lines = []
    if h.headcount_plan or h.budget_plan:
        lines += [
            "# HISTORY LEARNED FROM THE DATA: the team and lead volume changed over the history; the plans below",
            "# (sales.headcount_plan, marketing.budget_plan) reproduce them and the fit ran with them in place.",
            f"# FORECASTING beyond the export date (day {cal.direct.span_days:.0f}): the last observed team and lead "
            "volume",
            "# (the plans' final steps) hold unless you edit the plans.",
        ]
    else:
        lines.append("# History: no persistent change of the team or significant step of the lead volume found.")
    lines += [f"# Note: {n}" for n in h.notes]
    return lines


def _header(cal: Calibration, data: str, extends: str) -> list[str]:
    d = cal.direct
    lines = [
        f"# Calibrated by `simfunnel calibrate` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from {data}",
        f"# Day 0 = {d.start:%Y-%m-%d} (the month of the first lead); {d.span_days:.0f} days of data. Base: {cal.base}.",
        "# Every field below is commented with its estimate, its 90 % interval and the data it came from; all other",
        "# fields are the base's. The parameter sample (one row per draw) is in the .samples.csv file next to this.",
    ]
    fit = cal.fit
    if fit is not None:
        lines.append("# Latent parameters by simulated moments with common random numbers (simfunnel.calibrate.fit).")
        bad = [e for e in fit.estimates if e.status == "not identified"]
        for e in bad:
            lines.append(f"# NOT IDENTIFIED by this data, kept at the base value: {e.field} ({e.note})")
    lines += _history_header(cal)
    for note in d.notes:
        lines.append(f"# Note: {note}")
    lines.append("# Observed, reported only (not scenario fields):")
    for e in d.estimates:
        if not e.field:
            lines.append(f"#   {e.name}: {_interval(e)} {e.unit}".rstrip() + (f" - {e.note}" if e.note else ""))
    if fit is not None:
        lines.append("# Moments matched (observed -> fitted): " + ", ".join(
            f"{k} {fit.observed[k]:.3g} -> {fit.fitted[k]:.3g}" for k in MOMENTS if math.isfinite(fit.observed[k])))  # fmt: skip
    return lines


def scenario_text(cal: Calibration, name: str, extends: str, data: str = "a CRM export") -> str:
    """The calibrated scenario as TOML text (see the module docstring)."""
    lines = _header(cal, data, extends)
    lines += ["", f"name = {json.dumps(name)}",
              f"description = {json.dumps('Calibrated to ' + data)}", f"extends = {json.dumps(extends)}"]  # fmt: skip
    comments = {**_field_comments(cal), **history_comments(cal)}
    tables: dict[str, list[tuple[str, object]]] = {}
    for key, value in cal.overrides.items():
        table, _, leaf = key.rpartition(".")
        tables.setdefault(table, []).append((leaf, value))
    for table, items in tables.items():
        lines += ["", f"[{table}]"]
        for leaf, value in items:
            full = f"{table}.{leaf}"
            lines += [f"# {c}" for c in comments.get(full, [])]
            lines.append(f"{leaf} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def write_calibration(cal: Calibration, path: str | Path, data: str = "a CRM export") -> tuple[Path, Path]:
    """Write the scenario TOML to `path` and the parameter sample to ``<stem>.samples.csv`` next to it; returns
    both paths. `data` names the data in the header comment."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = scenario_text(cal, out.stem, extends_path(cal.base, out.parent), data)
    out.write_text(text, encoding="utf-8")
    samples = out.with_name(out.stem + ".samples.csv")
    cal.draws().to_csv(samples, index_label="draw")
    return out, samples


__all__ = ["estimate_number", "extends_path", "history_comments", "scenario_text", "write_calibration"]
