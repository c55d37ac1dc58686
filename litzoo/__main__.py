"""``python -m litzoo ...``: the same as the ``litzoo`` command."""

from litzoo.cli import main

main()
