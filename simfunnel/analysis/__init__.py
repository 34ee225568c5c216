"""How sure are we? Experiments over sampled worlds and what to read from them.

- `explore` (`.explore`): every policy in the same sampled worlds (`Exploration`), designs in `.design`;
- `sensitivity` (`.sensitivity`): Sobol first/total-order indices with intervals, Morris mu*/sigma (SALib);
- `robustness` (`.robustness`): share of worlds beating the baseline, regret, minimax-regret or satisficing choice;
- `prim`, `discover` (`.prim`): scenario discovery, the box of worlds where a policy does not pay;
- `evppi` (`.voi`): expected value of partial perfect information per input, for the decision "which policy".
- `one_at_a_time` (`.oat`): paired one-at-a-time swings of a KPI difference (the numbers behind a tornado).

SALib is an optional dependency (``pip install 'simfunnel[robustness]'``), imported only when a design is drawn
or indices are computed.
"""

from simfunnel.analysis.design import DESIGNS, WorldDesign
from simfunnel.analysis.explore import Exploration, UncertaintyLike, explore

__all__ = ["DESIGNS", "Exploration", "UncertaintyLike", "WorldDesign", "explore"]
