"""Pictures from a run's files: learning curves from ``metrics.csv``."""
