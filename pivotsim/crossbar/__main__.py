"""``python -m pivotsim.crossbar [serve options]``: the same server as ``pivotsim serve``."""

from __future__ import annotations

import sys

from .cli import serve_main

if __name__ == "__main__":
    argv = sys.argv[1:]
    if argv[:1] == ["serve"]:
        argv = argv[1:]
    sys.exit(serve_main(argv))
