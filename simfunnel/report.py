"""Deprecated: use `simfunnel.present.report` (the client report, rebuilt as sections). This module forwards to
its public names so that ``from simfunnel.report import build_report`` keeps working.

``LEVER_GROUPS`` is `simfunnel.vocabulary.LEVER_GROUPS`, the one grouping of the levers (report and notebooks).
"""

from simfunnel.compat import forward

__getattr__, __dir__ = forward("simfunnel.present.report")
