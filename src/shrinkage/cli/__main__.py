"""``python -m shrinkage.cli``: the same as the ``shrinkage`` command."""

import sys

from . import main

sys.exit(main())
