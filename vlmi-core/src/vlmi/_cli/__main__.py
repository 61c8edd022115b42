"""``python -m vlmi._cli``: the ``vlmi`` command."""

from __future__ import annotations

import sys

from .main import main

sys.exit(main())
