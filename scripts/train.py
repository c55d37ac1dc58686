"""``python scripts/train.py fit|validate|test|predict --config ...``: the ``litzoo`` command, run from a clone.

The CLI itself lives in the installed ``litzoo`` package (``litzoo/cli/lightning_cli.py``); this file only starts it.
"""

from litzoo.startup import main

if __name__ == "__main__":
    main()
