"""Calibrating a scenario to a firm's own CRM data (issue 12): `direct_estimates` (what the data record without a
model), `fit_latent` (latent parameters by simulated moments with common random numbers), `calibrate` (both) and
`write_calibration` (a scenario TOML extending the base, every fitted field commented, and a parameter sample);
`simfunnel.calibrate.history` (the firm's team and lead-volume history, learned as hiring and budget plans);
`compare_fit` (observed vs simulated, the fit report's tables) and `simfunnel.calibrate.backtest.backtest` (fit before
a date, predict after; not re-exported here, where it would hide its module).
Needs ``pip install 'simfunnel[calibrate]'`` (lifelines, scipy)."""

from simfunnel.calibrate.backtest import Backtest
from simfunnel.calibrate.compare import FitComparison, compare_fit
from simfunnel.calibrate.direct import DirectEstimates, direct_estimates
from simfunnel.calibrate.estimate import Estimate, estimates_frame, wilson
from simfunnel.calibrate.fit import IDENTIFIED_RATIO, FitSettings, Latent, LatentFit, default_latents, fit_latent
from simfunnel.calibrate.moments import MOMENTS, moments
from simfunnel.calibrate.run import Calibration, calibrate

__all__ = [
    "IDENTIFIED_RATIO",
    "MOMENTS",
    "Backtest",
    "Calibration",
    "DirectEstimates",
    "Estimate",
    "FitComparison",
    "FitSettings",
    "Latent",
    "LatentFit",
    "calibrate",
    "compare_fit",
    "default_latents",
    "direct_estimates",
    "estimates_frame",
    "fit_latent",
    "moments",
    "wilson",
]
