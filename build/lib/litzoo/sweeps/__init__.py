"""Tuning: ``litzoo sweep`` (Optuna studies over a search space) and ``fit --lr_find true``."""
