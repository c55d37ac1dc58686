"""``python scripts/export.py CKPT -o FILE``: the export command (``litzoo/export/command.py``), run from a clone."""

import sys

from litzoo.export.command import main

if __name__ == "__main__":
    main(sys.argv[1:])
