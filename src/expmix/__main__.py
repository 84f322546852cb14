"""``python -m expmix``: the command line (see :mod:`expmix.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
