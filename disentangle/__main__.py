"""``python -m disentangle demo``."""

import sys

from disentangle.cli import main

sys.exit(main())
