"""``python -m usagekit``: the same as the ``usagekit`` command."""

import os
import sys

if __name__ == "__main__":
    try:
        from ._cli import console_main
    except KeyboardInterrupt:  # Ctrl-C while the package is imported: no traceback
        sys.stderr.write("usagekit: interrupted\n")
        os._exit(130)
    console_main()
