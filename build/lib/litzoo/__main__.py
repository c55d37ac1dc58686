"""``python -m litzoo ...``: the same as the ``litzoo`` command."""

from litzoo.startup import main

main()
