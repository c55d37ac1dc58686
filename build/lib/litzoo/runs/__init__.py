"""Run folders: where a command writes (``lightning_logs/<experiment>/version_N``), reserved, locked,
resumed and released (:class:`litzoo.runs.setup.RunFolder`)."""
