"""Lead scoring: a lead-quality signal (fit and intent, with noise that CRM feedback reduces) compared with
the MQL threshold, and, separately, the buyer activity that decides *when* a qualifying buyer becomes an MQL."""

from __future__ import annotations

from pydantic import Field

from simfunnel.distributions import FrozenModel


class Scoring(FrozenModel):
    """Lead score = fit_weight * fit + (1 - fit_weight) * intent + noise (a quality signal that does not grow with
    time); a known buyer whose score reaches the MQL threshold becomes an MQL once its activity shows it is in a
    buying process (readiness reaches ``mql_readiness`` +- ``activity_sd``). So the threshold selects *which*
    buyers are passed (volume for quality), and timing is a separate matter (handoff, context)."""

    fit_weight: float = Field(
        0.5, ge=0, le=1, description="Weight of fit in the lead score (share, 0-1); the rest is the buyer's intent."
    )
    noise_sd: float = Field(0.15, ge=0, le=1, description="Sd of scoring noise with no CRM learning (score units).")
    min_noise_fraction: float = Field(
        0.3, ge=0, le=1, description="Noise left once CRM outcomes have fully trained the score (share of noise_sd)."
    )
    learning_half_outcomes: float = Field(
        200.0, gt=0, description="Logged outcomes after which half the learnable noise is gone (outcomes)."
    )
    mql_readiness: float = Field(
        0.40,
        ge=0,
        le=1,
        description="Readiness (share of the decision made) at which a qualifying known buyer's activity triggers "
        "the MQL; independent of the threshold (assumption: before sales-readiness, market.ready_at).",
    )
    activity_sd: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Sd across buyers of the readiness at which activity triggers the MQL (readiness units; "
        "assumption).",
    )


__all__ = ["Scoring"]
