"""Settings from the environment (``SOMEQUIZ_*``) with defaults that work in a checkout."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


def _project_root() -> Path:
    """The checkout the package runs from, or the working directory for an installed package."""
    checkout = Path(__file__).resolve().parents[1]
    return checkout if (checkout / "scenarios").is_dir() else Path.cwd()


class Settings(BaseSettings):
    """Deployment settings; every field can be set as ``SOMEQUIZ_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SOMEQUIZ_", extra="ignore")

    scenarios: Path = _project_root() / "scenarios"
    results: Path = _project_root() / "results"
    db_url: str = ""
    secret_key: str = ""
    xapi_homepage: str = "https://www.hameenkyro.fi"
    # Where `somequiz trainer` is reached: the HR item analysis links each scenario there.
    studio_url: str = "http://127.0.0.1:8868"
    retention_years: int = 0  # 0 keeps answers until ``somequiz db retention`` is run with --years
    lrs_user: str = ""
    lrs_password: str = ""
    # Overload protection of the learner server (per process; see SECURITY.md).
    max_kernels: int = 150  # live kernels at most; 0 = no cap. ~60 MiB each on this machine
    page_loads_per_minute: int = 60  # new page loads per client address; 0 = no limit
    page_load_burst: int = 10  # of them at once (then at the per-minute pace)
    # Live pages (kernels) one client address may hold; 0 = no cap. Raise it where many
    # learners share one address (an office behind NAT, a proxy not in trusted_proxies).
    max_kernels_per_address: int = 20
    # Pages starting their kernel and running their cells at once (per process); the others
    # wait their turn in arrival order (somequiz.ui.server.admission). 0 = no limit. With 100
    # pages at once on 2 cores, 8 made the median page ready ~40 % sooner, the last ~5 % later.
    page_starts_at_once: int = 8
    trusted_proxies: str = "127.0.0.1,::1"  # whose X-Forwarded-For names the client
    kernel_idle_timeout: int = 1200  # seconds before an idle, unconnected kernel is culled
    kernel_cull_interval: int = 60  # seconds between culling rounds
    # A page whose browser is connected but has sent nothing (no press, no typing) this long
    # is ended; the page then says so and a reload resumes the course. 0: never.
    idle_page_minutes: float = 60
    # Wrong staff tokens one address may try at once; then one a minute (HR, trainer servers).
    staff_token_failures: int = 10
    # Seconds a client may take to send a request's headers, or keep an idle connection open;
    # and to send its body (without them 1,500 half-open connections were held for an hour).
    http_idle_timeout: float = 30
    http_body_timeout: float = 60
    # Cookies always Secure (SameSite they always are); without it they are Secure when the
    # request came over HTTPS, itself or through a trusted proxy (X-Forwarded-Proto).
    secure_cookies: bool = False
    # A page unused this long is forgotten by the course service (reload resumes it).
    session_idle_timeout: int = 4 * 3600
    # Course service processes per learner server (grading, storing); about one per core.
    service_processes: int = 2
    # Learner pages' kernels are forked from a warm process (somequiz.ui.server.forkserver): a page
    # start costs a third of the CPU. Off: each kernel is a new Python process.
    kernel_fork_server: bool = True
    # The scripts a page needs are sent as one file from its start (somequiz.ui.server.
    # page_scripts); off, the page fetches them in waves, as Voilà does.
    join_page_scripts: bool = True

    def database_url(self) -> str:
        """The configured database URL, by default a SQLite file under ``results``."""
        return self.db_url or f"sqlite:///{self.results / 'somequiz.db'}"


@lru_cache
def settings() -> Settings:
    """The process-wide settings."""
    return Settings()
