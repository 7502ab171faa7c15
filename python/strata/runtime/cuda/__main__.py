"""`python -m strata.runtime.cuda ARTIFACT ...` (see `cli.main`)."""

import sys

from .cli import main

sys.exit(main())
