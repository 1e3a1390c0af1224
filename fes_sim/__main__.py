"""``python -m fes_sim`` runs the ``fes`` command."""

import sys

from fes_sim.cli import main

sys.exit(main())
