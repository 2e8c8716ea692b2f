"""`python -m newsdex`: the newsdex command line."""

import sys

from newsdex.flows.cli import main

sys.exit(main())
