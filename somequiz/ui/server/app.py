"""Standalone Voilà for learners, configured in one place.

Not a Jupyter server extension: standalone Voilà refuses ``execute_request`` from the browser.
Only ``notebooks/learner`` is served, because Voilà runs any notebook under its root by URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from jupyter_server.utils import url_path_join
from platformdirs import user_cache_dir
from tornado import web
from tornado.websocket import WebSocketHandler
from traitlets.config import Config

from somequiz.config import settings
from somequiz.content.folder import load_content
from somequiz.course.versions import remember_content
from somequiz.records.course import CourseRecords
from somequiz.records.database import Database
from somequiz.ui import JUPYTER_DATA, TEMPLATE
from somequiz.ui.identity import configured_headers
from somequiz.ui.kernel.main import PageKernelSpecs
from somequiz.ui.server import browser, page_scripts
from somequiz.ui.server.admission import admitted_pages
from somequiz.ui.server.kernel_client import PageKernelClient
from somequiz.ui.server.limits import CappedKernelManager, PageLoadGuard
from somequiz.ui.server.loading import PageConfig
from somequiz.ui.server.notebooks import COURSE_NOTEBOOK
from somequiz.ui.server.sign_in import finnish_sign_in
from somequiz.ui.server.staff_tokens import ThrottledTokens, redact_logs
from somequiz.ui.server.static import compress_responses, sent_compressed
from somequiz.ui.server.transport import harden


def notebooks_root() -> Path:
    """The checkout's ``notebooks`` folder (or the working directory's)."""
    checkout = Path(__file__).resolve().parents[3]
    base = checkout if (checkout / "scenarios").is_dir() else Path.cwd()
    return base / "notebooks"


def learner_root() -> Path:
    """The learner server's root: ``notebooks/learner`` and nothing else."""
    return notebooks_root() / "learner"


def use_packaged_templates() -> None:
    """Put :data:`JUPYTER_DATA` first on ``JUPYTER_PATH``, where Voilà looks up templates.

    Voilà has no setting for a template search path: it collects template and static folders
    from the Jupyter data path (also when serving the template's static files).
    """
    folder = str(JUPYTER_DATA)
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if folder not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([folder, *paths])


class CompiledTemplates(BytecodeCache):
    """Compiled page templates, kept in memory for the server's life.

    Voilà builds a new Jinja environment for every page, so every page load compiled the
    dozen templates of its page again: ~115 ms of the server's CPU per page, measured with
    cProfile (bench/README.md). A bucket is only reused for the same template source.
    """

    def __init__(self) -> None:
        self._compiled: dict[str, tuple[str, Any]] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        """Hand the bucket the code compiled earlier from the same source, if any."""
        checksum, code = self._compiled.get(bucket.key, ("", None))
        if code is not None and checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep what was just compiled."""
        self._compiled[bucket.key] = (bucket.checksum, bucket.code)


def share_compiled_templates(cache: BytecodeCache) -> None:
    """Make every page's Jinja environment use ``cache``.

    Voilà has no setting for it: its page renderer makes a ``VoilaExporter`` per page, so
    that name is pointed at a subclass whose environment uses the cache.
    """
    from voila import notebook_renderer

    exporter = notebook_renderer.VoilaExporter
    if getattr(exporter, "compiled_templates", None) is not None:
        exporter.compiled_templates = cache
        return

    class CachingExporter(exporter):  # type: ignore[misc, valid-type]
        compiled_templates = cache

        @property
        def environment(self) -> Any:
            environment = super().environment
            environment.bytecode_cache = type(self).compiled_templates
            return environment

    notebook_renderer.VoilaExporter = CachingExporter


def set_page_cookies(handler: Any, notebook: Any, cwd: str) -> None:
    """Voilà pre-launch hook: the browser's id cookie, and the ``_xsrf`` cookie.

    The browser id binds the page's kernel to this browser (:mod:`somequiz.ui.server.browser`).
    Without the ``_xsrf`` cookie, the page's shutdown beacon on close is refused with 403
    "_xsrf argument missing" when the render URL is the first page visited (voila#1458),
    and the kernel lives on until culled. Reading ``xsrf_token`` makes tornado set it.
    """
    browser.identify(handler)
    _ = handler.xsrf_token


def voila_config(host: str, port: int, root: Path, token: str | None = None) -> Config:
    """The server's settings; a ``token`` (for staff servers) is required on every request.

    Overload protection (``SOMEQUIZ_MAX_KERNELS``, ``SOMEQUIZ_PAGE_LOADS_PER_MINUTE``,
    ``SOMEQUIZ_KERNEL_IDLE_TIMEOUT``): see :mod:`somequiz.ui.server.limits` and SECURITY.md.
    """
    options = settings()
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
    # The lab template without links to public CDNs (Font Awesome, Mermaid): pages load
    # from this server only. See somequiz/ui/server/jupyter/voila/templates/somequiz.
    use_packaged_templates()
    voila.template = TEMPLATE
    # Versioned script URLs (cached for good) and the loading screen's words.
    voila.page_config_hook = PageConfig(course=not token)
    # The pages have no code cells to highlight: no Pygments styles to load.
    voila.extension_denylist = ["jupyterlab_pygments"]
    # Voilà compiles its page templates again for every page: keep them compiled.
    share_compiled_templates(CompiledTemplates())
    # Before each page's kernel starts: per-address rate limit, kernel cap, page cookies.
    voila.prelaunch_hook = PageLoadGuard(
        options.page_loads_per_minute,
        options.trusted_proxies.split(","),
        then=set_page_cookies,
        burst=options.page_load_burst,
        per_address=options.max_kernels_per_address,
    )
    voila.multi_kernel_manager_class = CappedKernelManager
    # Pages run a lean kernel that starts faster (somequiz.ui.kernel.main), and are run as soon
    # as it answers (somequiz.ui.server.kernel_client).
    voila.kernel_spec_manager_class = PageKernelSpecs
    config.ServerKernelManager.client_factory = PageKernelClient
    # No file under the root is public: the course needs no static files.
    voila.file_allowlist = []
    # Single sign-on: the proxy's identity headers reach the kernel as HTTP_* variables.
    voila.http_header_envs = configured_headers()
    config.Voila.tornado_settings = {"headers": HEADERS}
    _kernel_settings(config)
    _token_settings(config)
    return config


# Sent with every response (jupyter_server adds X-Content-Type-Options: nosniff). No referrer
# leaves a page (a staff page's address carries its token); no page may be framed, carry a
# <base> or a plugin, or post a form elsewhere. Everything a page loads or connects to comes
# from its own server: no foreign script, style, font, image or host to send data to.
# Scripts may still be inline ('unsafe-inline': Voilà's page writes its configuration and
# starts its widgets in inline scripts, and the first screen's is an HTML output) and from
# blob: URLs (anywidget imports each widget's module from one); see SECURITY.md.
CONTENT_POLICY = (
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
    "form-action 'self'",
)
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "; ".join(CONTENT_POLICY),
}


def _token_settings(config: Config) -> None:
    """Wrong staff tokens are throttled, and no token is written to the access log
    (:mod:`somequiz.ui.server.staff_tokens`)."""
    config.Voila.identity_provider_class = ThrottledTokens
    redact_logs()


def _kernel_settings(config: Config) -> None:
    """How the server manages its pages' kernels: cap, culling, transport."""
    options = settings()
    # Kernels of pages nobody is connected to (closed without the beacon, or never opened by
    # a browser) are culled once idle this long.
    kernels = config.MappingKernelManager
    kernels.cull_idle_timeout = options.kernel_idle_timeout
    kernels.cull_interval = options.kernel_cull_interval
    kernels.cull_connected = False
    # A connected page that has sent nothing for this long is ended too (ui/server/culling.py).
    config.CappedKernelManager.idle_page_timeout = options.idle_page_minutes * 60
    config.CappedKernelManager.max_kernels = options.max_kernels
    config.CappedKernelManager.starts_at_once = options.page_starts_at_once
    # Kernels talk over Unix sockets in Voilà's private connection folder, not TCP ports: with
    # many kernels starting at once a port picked for one can be taken before it binds, and
    # the server then blocks for good stopping that kernel's heartbeat (see bench/README.md).
    config.KernelManager.transport = "ipc"


def bound_to_browser(spec: Any) -> Any:
    """A handler spec whose kernel handler answers only its page's browser.

    The kernel's websocket also gets the bounds of :class:`browser.KernelSocketLimits`.
    """
    pattern, handler, *rest = spec
    if "/api/kernels/" not in pattern and "/voila/api/shutdown/" not in pattern:
        return spec
    mixins: tuple[type, ...] = (browser.BoundToBrowser,)
    if issubclass(handler, WebSocketHandler):
        mixins += (browser.KernelSocketLimits,)
    bound = type(f"Bound{handler.__name__}", (*mixins, handler), {})
    return (pattern, bound, *rest)


def known_paths_only(spec: Any) -> Any:
    """A handler spec that answers 404, not 500, for a template path that does not exist."""
    from voila.static_file_handler import TemplateStaticFileHandler

    pattern, handler, *rest = spec
    if handler is not TemplateStaticFileHandler:
        return spec

    class KnownTemplateFiles(TemplateStaticFileHandler):  # type: ignore[misc]
        def parse_url_path(self, path: str) -> Any:
            try:
                return super().parse_url_path(path)
            except (ValueError, AssertionError) as exc:  # not "<template>/static/<file>"
                raise web.HTTPError(404) from exc

    return (pattern, KnownTemplateFiles, *rest)


def course_at_root(server_url: str) -> Any:
    """A handler spec that sends the root URL to the course, not to a list of notebooks."""
    course = url_path_join(server_url, "voila/render", COURSE_NOTEBOOK)
    return (server_url, web.RedirectHandler, {"url": course, "permanent": False})


def joined_page_scripts(voila: Any) -> Any:
    """The handler of the page's scripts in one file, built from ``voila``'s folders."""
    scripts = page_scripts.JoinedScripts.build(
        page_scripts.listed_urls(), voila.static_paths, voila.labextensions_path
    )
    cache = Path(user_cache_dir("somequiz"))
    return page_scripts.install(voila.app, voila.server_url, scripts, cache)


def _voila(course_service: bool) -> type[Any]:
    """Voilà with these servers' handlers: no logout page (there is no login to end: it
    answered 500), 404 for unknown template paths; and for the learner server
    (``course_service``) kernels bound to their browser and the course service processes."""
    from voila.app import Voila

    from somequiz.ui import SOCKET_ENV
    from somequiz.ui.kernel.main import FORK_SOCKET_ENV
    from somequiz.ui.server.forkserver import ForkServer
    from somequiz.ui.service.process import ServiceProcesses

    class SomequizVoila(Voila):  # type: ignore[misc]
        def init_handlers(self) -> list[Any]:
            handlers = [
                finnish_sign_in(sent_compressed(known_paths_only(spec)))
                for spec in super().init_handlers()
                if not spec[0].endswith("/logout")
            ]
            compress_responses(self.app)
            if settings().join_page_scripts:
                handlers.insert(0, joined_page_scripts(self))
            if not course_service:
                return handlers
            handlers.insert(0, course_at_root(self.server_url))
            # Voilà's connection folder is private to the server's user (0700).
            self.somequiz_services = ServiceProcesses(
                Path(self.connection_dir), settings().service_processes
            )
            sockets = self.somequiz_services.start()
            os.environ[SOCKET_ENV] = os.pathsep.join(str(path) for path in sockets)
            # Pages' kernels forked from a warm process, with the environment set above.
            self.somequiz_forks = ForkServer(Path(self.connection_dir))
            if settings().kernel_fork_server:
                os.environ[FORK_SOCKET_ENV] = str(self.somequiz_forks.start())
            return [admitted_pages(bound_to_browser(spec)) for spec in handlers]

        def listen(self) -> None:
            # Cookie flags and connection timeouts (somequiz.ui.server.transport).
            harden(self.app)
            super().listen()

        def stop(self) -> None:
            super().stop()
            if course_service:
                self.somequiz_forks.stop()
                self.somequiz_services.stop()

    return SomequizVoila


def serve(
    host: str,
    port: int,
    root: Path | None = None,
    *,
    token: str | None = None,
    course_service: bool = False,
) -> None:
    """Run a server on ``root`` (the learner notebooks by default) until interrupted.

    The learner server (``course_service``) also runs the service its pages' kernels use.
    """
    folder = root or learner_root()
    # Kernels run in the notebook's folder: hand them absolute paths.
    os.environ["SOMEQUIZ_SCENARIOS"] = str(settings().scenarios.resolve())
    os.environ["SOMEQUIZ_RESULTS"] = str(settings().results.resolve())
    settings.cache_clear()
    settings().results.mkdir(parents=True, exist_ok=True)
    # Migrate once here, before any service or kernel starts.
    with Database.configured(settings()) as db:
        remember_content(CourseRecords(db), load_content(settings().scenarios))
    _voila(course_service).launch_instance(
        argv=[str(folder)], config=voila_config(host, port, folder, token)
    )
