"""`python -m explorer.fetch SYMBOL INTERVAL FIRST_DAY [LAST_DAY] -o FILE`: the documented command; the code is in
explorer/data/fetch.py (also runnable as `python -m explorer.data.fetch`)."""
from __future__ import annotations

import sys

from explorer.data.fetch import main

if __name__ == "__main__":
    sys.exit(main())
