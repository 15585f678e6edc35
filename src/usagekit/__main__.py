"""``python -m usagekit``: the same as the ``usagekit`` command."""

from ._cli import console_main

if __name__ == "__main__":
    console_main()
