"""A plain Voilà on a folder, with exactly the learner server's settings (``voila_config``).

Usage: ``python bench/voila_plain.py ROOT PORT``. Used by ``bench/tti.py`` for the baseline
notebooks under ``bench/notebooks`` (no somequiz store, no somequiz code in the kernels).
"""

from __future__ import annotations

import sys
from pathlib import Path

from voila.app import Voila

from somequiz.ui.server.app import voila_config


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    port = int(sys.argv[2])
    Voila.launch_instance(argv=[str(root)], config=voila_config("127.0.0.1", port, root))


if __name__ == "__main__":
    main()
