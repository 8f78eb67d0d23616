"""``python -m jkn …``: the ``jkn`` command (:mod:`jkn.cli`)."""

from jkn.cli import main

if __name__ == "__main__":
    main()
