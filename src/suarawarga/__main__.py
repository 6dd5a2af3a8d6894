"""`python -m suarawarga` and the `suarawarga` console script: the command line lives in `suarawarga.cli`."""

from __future__ import annotations

import sys

from suarawarga.cli.main import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
