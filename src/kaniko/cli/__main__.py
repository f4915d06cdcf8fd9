"""``python -m kaniko.cli``: the same as the ``kaniko`` script."""

from __future__ import annotations

import sys

from kaniko.cli.main import main

sys.exit(main())
