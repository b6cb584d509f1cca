"""``python -m nas`` runs the ``nas`` command line (as the console script does)."""
import sys

from nas.cli import main

if __name__ == "__main__":
    sys.exit(main())
