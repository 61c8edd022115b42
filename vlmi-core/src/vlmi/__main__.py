"""``python -m vlmi`` runs the ``vlmi`` command."""

from __future__ import annotations

import sys

from ._cli import main

sys.exit(main())
