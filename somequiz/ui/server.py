"""Standalone Voilà for learners, configured in one place.

Not a Jupyter server extension: standalone Voilà refuses ``execute_request`` from the browser.
Only ``notebooks/learner`` is served, because Voilà runs any notebook under its root by URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from traitlets.config import Config

from somequiz.config import settings
from somequiz.store import Store
from somequiz.ui.identity import configured_headers

IDLE_TIMEOUT_S = 1200
CULL_INTERVAL_S = 60


def notebooks_root() -> Path:
    """The checkout's ``notebooks`` folder (or the working directory's)."""
    checkout = Path(__file__).resolve().parents[2]
    base = checkout if (checkout / "scenarios").is_dir() else Path.cwd()
    return base / "notebooks"


def learner_root() -> Path:
    """The learner server's root: ``notebooks/learner`` and nothing else."""
    return notebooks_root() / "learner"


def set_xsrf_cookie(handler: Any, notebook: Any, cwd: str) -> None:
    """Voilà pre-launch hook: make sure the page's first response sets the ``_xsrf`` cookie.

    Without it, the page's shutdown beacon on close is refused with 403 "_xsrf argument
    missing" when the render URL is the first page visited (voila#1458), and the kernel
    lives on until culled. Reading ``xsrf_token`` makes tornado set the cookie.
    """
    _ = handler.xsrf_token


def voila_config(host: str, port: int, root: Path, token: str | None = None) -> Config:
    """The server's settings; a ``token`` (for staff servers) is required on every request."""
    config = Config()
    if token:
        config.Voila.token = token
    config.Voila.ip = host
    config.Voila.port = port
    config.Voila.open_browser = False
    config.Voila.root_dir = str(root)
    voila = config.VoilaConfiguration
    voila.strip_sources = True
    voila.show_tracebacks = False
    voila.allow_template_override = "NO"
    voila.allow_theme_override = "NO"
    voila.prelaunch_hook = set_xsrf_cookie
    # No file under the root is public: the course needs no static files.
    voila.file_allowlist = []
    # Single sign-on: the proxy's identity headers reach the kernel as HTTP_* variables.
    voila.http_header_envs = configured_headers()
    kernels = config.MappingKernelManager
    kernels.cull_idle_timeout = IDLE_TIMEOUT_S
    kernels.cull_interval = CULL_INTERVAL_S
    kernels.cull_connected = False
    return config


def serve(host: str, port: int, root: Path | None = None, *, token: str | None = None) -> None:
    """Run a server on ``root`` (the learner notebooks by default) until interrupted."""
    from voila.app import Voila

    from somequiz.ui import MIGRATED_ENV

    folder = root or learner_root()
    # Kernels run in the notebook's folder: hand them absolute paths.
    os.environ["SOMEQUIZ_SCENARIOS"] = str(settings().scenarios.resolve())
    os.environ["SOMEQUIZ_RESULTS"] = str(settings().results.resolve())
    settings.cache_clear()
    settings().results.mkdir(parents=True, exist_ok=True)
    Store().close()  # migrate once here, so that learner kernels need not
    os.environ[MIGRATED_ENV] = "1"
    Voila.launch_instance(argv=[str(folder)], config=voila_config(host, port, folder, token))
