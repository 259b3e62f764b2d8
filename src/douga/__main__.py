"""``python -m douga``: the same command line as ``douga``."""

from douga.cli import main

if __name__ == "__main__":
    main()
