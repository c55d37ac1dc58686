"""``python scripts/sweep.py --config ... --space ... --trials N``: the ``litzoo sweep`` command, run from a clone.

The sweep itself lives in the installed ``litzoo`` package (``litzoo/sweeps/sweep.py``); this file only starts it.
"""

import sys

from litzoo.sweeps.sweep import main

if __name__ == "__main__":
    main(sys.argv[1:])
