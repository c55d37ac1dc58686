"""``python scripts/export.py CKPT -o FILE``: the export command (``litzoo/export.py``), run from a clone."""

import sys

from litzoo.export import main

if __name__ == "__main__":
    main(sys.argv[1:])
