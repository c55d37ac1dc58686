"""``python scripts/plot_metrics.py RUN...``: plot a run's curves (``litzoo/plots/metrics.py``), run from a clone."""

import sys

from litzoo.plots.metrics import main

if __name__ == "__main__":
    main(sys.argv[1:])
