"""``python scripts/hparams_table.py LOGDIR``: what TensorBoard's HParams tab shows for LOGDIR, as a text table."""

import sys

from litzoo.callbacks.hparams_table import main

if __name__ == "__main__":
    main(sys.argv[1:])
