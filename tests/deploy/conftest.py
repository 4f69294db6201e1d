"""Fixtures: the shipped nginx config in front of two learner processes over PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from nginx_cluster import UI_COURSE, Cluster, nginx_binary, start_cluster


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def nginx() -> str:
    """nginx from the Debian package; a skip locally without it, a failure in CI."""
    found = nginx_binary()
    if found is None:
        reason = "nginx is not installed (apt-get install nginx-light; `make system-packages`)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI requires nginx: {reason}")
        pytest.skip(reason)
    return found


@pytest.fixture
def cluster(nginx: str, pg_database: str, tmp_path: Path) -> Iterator[Cluster]:
    """Two ``somequiz serve`` processes over a fresh PostgreSQL database, nginx in front."""
    with start_cluster(tmp_path, UI_COURSE, 2, pg_database, nginx) as running:
        yield Cluster(running.url, pg_database, running.servers, running.access_log)
