"""``python -m detlab`` runs the command line."""

from detlab.cli.app import main

main()
