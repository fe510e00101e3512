"""`python -m localbus.serve TEMPLATE [--port 4010] [--param K=V]...` (localbus.serve.command)."""

from __future__ import annotations

import sys

from localbus.serve.command import main

if __name__ == "__main__":
    sys.exit(main())
