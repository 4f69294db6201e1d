"""A plain Voilà on a folder, with exactly the servers' settings (``voila_config``) and Voilà
subclass (compressed responses, versioned static files; no course service).

Usage: ``python bench/voila_plain.py ROOT PORT``. Used by ``bench/tti.py`` for the baseline
notebooks under ``bench/notebooks`` (no somequiz store, no somequiz code in the kernels).
"""

from __future__ import annotations

import sys
from pathlib import Path

from somequiz.ui.server.app import CONTENT_POLICY, _voila, voila_config

# jupyterquiz draws its quiz by evaluating a JavaScript output: it needs 'unsafe-eval', which
# the course's own policy forbids (the course needs none). Everything else stays the same.
BASELINE_POLICY = "; ".join(
    f"{rule} 'unsafe-eval'" if rule.startswith("script-src") else rule for rule in CONTENT_POLICY
)


def main() -> None:
    root = Path(sys.argv[1]).resolve()
    port = int(sys.argv[2])
    config = voila_config("127.0.0.1", port, root)
    headers = config.Voila.tornado_settings["headers"]
    config.Voila.tornado_settings = {
        "headers": {**headers, "Content-Security-Policy": BASELINE_POLICY}
    }
    _voila(course_service=False).launch_instance(argv=[str(root)], config=config)


if __name__ == "__main__":
    main()
