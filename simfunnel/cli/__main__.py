"""`python -m simfunnel.cli`: the same as the `simfunnel` console script."""

import sys

from simfunnel.cli import main

sys.exit(main())
