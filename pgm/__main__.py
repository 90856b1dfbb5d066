"""``python -m pgm``: the command line."""

import sys

from pgm.cli import main

if __name__ == "__main__":
    sys.exit(main())
