"""``python -m innosim.cli``: the same as the ``innosim`` command."""

from innosim.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
