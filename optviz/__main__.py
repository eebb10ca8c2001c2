"""Entry point for ``python -m optviz``."""

from optviz.cli import main

main()
