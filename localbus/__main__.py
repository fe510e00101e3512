"""`python -m localbus run TEMPLATE ...`, the same as the `localbus` command."""

import sys

from localbus.cli import main

sys.exit(main())
