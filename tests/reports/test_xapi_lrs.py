"""xAPI delivery against Ralph's own LRS server (filesystem backend, basic auth) on loopback.

Ralph 5.1's filesystem backend stores the first write request and answers every later one
with 500: its data backend writes in "create" mode by default, the statements API passes no
mode, and the store file exists after the first write (batch or single PUT alike). It also
answers a lookup of an id it does not have with 200 and ``{"statements": []}``.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import bcrypt
import pytest
import requests
from click.testing import CliRunner, Result
from records_helpers import run_course, shared_database

from somequiz.cli import main
from somequiz.config import settings
from somequiz.content.folder import Content
from somequiz.records.store import Store
from somequiz.reports import xapi

AT = datetime(2026, 2, 3, 10, tzinfo=UTC)
USER, PASSWORD = "hr", "salainen"
VERSION = {"X-Experience-API-Version": "1.0.3"}


@dataclass(frozen=True)
class Ralph:
    """A running Ralph LRS: its statements URL and the file its fs backend writes."""

    url: str
    data: Path

    def stored(self) -> list[str]:
        """Ids in the backend's own file, read without asking the server."""
        path = self.data / "fs_lrs.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["id"] for line in lines if line.strip()]

    def lookup(self, statement_id: str) -> requests.Response:
        """Ralph's own answer to a lookup by id."""
        return requests.get(
            self.url + "statements",
            params={"statementId": statement_id},
            auth=(USER, PASSWORD),
            headers=VERSION,
            timeout=10,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _auth_file(path: Path) -> None:
    """Ralph's auth file, as `ralph auth -w` writes it (low bcrypt cost: a test password)."""
    agent = {"objectType": "Agent", "account": {"homePage": "https://lrs.test", "name": USER}}
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    path.write_text(
        json.dumps([{"agent": agent, "scopes": ["all"], "username": USER, "hash": digest}])
    )


def _wait_until_up(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Ralph stopped at start:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/__heartbeat__", timeout=2).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"Ralph did not answer in 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def ralph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ralph]:
    """Ralph's API app (what `ralph runserver -b fs` serves) on 127.0.0.1, stopped after."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # loopback only, even where a proxy is set
    home, data = tmp_path / "ralph", tmp_path / "ralph" / "data"
    data.mkdir(parents=True)
    _auth_file(home / "auth.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RALPH_")}
    env |= {
        "RALPH_APP_DIR": str(home),
        "RALPH_AUTH_FILE": str(home / "auth.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data),
    }
    port, log = _free_port(), home / "server.log"
    # uvicorn directly, as runserver does, without its reloader (one process to stop).
    command = [sys.executable, "-m", "uvicorn", "ralph.api:app", "--host", "127.0.0.1"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--port", str(port)], cwd=home, env=env, stdout=out, stderr=out
        )
    try:
        _wait_until_up(process, port, log)
        yield Ralph(f"http://127.0.0.1:{port}/xAPI/", data)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory, content: Content) -> Iterator[Store]:
    """A passed, a failed and an unfinished attempt, in a SQLite store of this module."""
    with shared_database("sqlite", tmp_path_factory.mktemp("lrs"), None) as store:
        run_course(store, content, name="Paras", employee_number="E1", at=AT)
        run_course(store, content, name="Heikoin", employee_number="E2", best=False, at=AT)
        learner = store.learner(name="Kesken", employee_number=None, unit="Kotihoito")
        store.start_attempt(learner.id, content.course.id, 1, "a" * 16, at=AT)
        yield store


def test_ralph_keeps_only_its_first_write_and_the_report_says_so(
    filled: Store, content: Content, ralph: Ralph
) -> None:
    items = list(xapi.statements(filled, content))
    total = len(items)
    with pytest.raises(xapi.DeliveryError) as failed:
        xapi.send(items, ralph.url, auth=(USER, PASSWORD), batch=4, retries=1, backoff=0.01)
    assert ralph.stored() == [s["id"] for s in items[:4]]
    assert failed.value.result == xapi.Sent(4, 0, total - 4, 0)
    message = str(failed.value)
    assert "HTTP 500" in message
    assert f"Oppimistietovarastossa on 4 / {total} lauseketta; {total - 4} puuttuu." in message
    # The answer that made the old check count every missing statement as delivered:
    missing = ralph.lookup(items[-1]["id"])
    assert (missing.status_code, missing.json()) == (200, {"statements": []})
    with pytest.raises(xapi.DeliveryError) as again:
        xapi.send(items, ralph.url, auth=(USER, PASSWORD), batch=4, retries=1, backoff=0.01)
    counted = again.value.result
    assert (counted.sent + counted.already_there, counted.missing) == (4, total - 4)
    assert ralph.stored() == [s["id"] for s in items[:4]]


def _export(store: Store, url: str, monkeypatch: pytest.MonkeyPatch, batch: int = 50) -> Result:
    """`somequiz export --format xapi --lrs URL` on the store, retrying quickly."""
    for name, value in {
        "SOMEQUIZ_DB_URL": store.url,
        "SOMEQUIZ_SECRET_KEY": "shared-test-key",  # the key the store was filled with
        "SOMEQUIZ_LRS_USER": USER,
        "SOMEQUIZ_LRS_PASSWORD": PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    send = functools.partial(xapi.send, batch=batch, retries=1, backoff=0.01)
    with monkeypatch.context() as patch:
        patch.setattr(xapi, "send", send)
        return CliRunner().invoke(main, ["export", "--format", "xapi", "--lrs", url])


def test_a_delivery_ralph_takes_whole_is_reported_whole(
    filled: Store, content: Content, ralph: Ralph, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = list(xapi.statements(filled, content))
    # One batch: the only write Ralph's fs backend takes, on an empty store.
    result = _export(filled, ralph.url, monkeypatch, batch=len(items))
    assert result.exit_code == 0, result.output + result.stderr
    assert f"Lähetetty {len(items)} lauseketta; 0 oli jo perillä." in result.output
    assert sorted(ralph.stored()) == sorted(s["id"] for s in items)
    found = ralph.lookup(items[-1]["id"]).json()["statements"]
    assert [s["id"] for s in found] == [items[-1]["id"]]
    # Ralph answers 204 to statements it already has: sending again stores nothing twice.
    again = _export(filled, ralph.url, monkeypatch, batch=len(items))
    assert again.exit_code == 0, again.stderr
    assert len(ralph.stored()) == len(items)


def test_export_command_exits_non_zero_with_the_counts(
    filled: Store, content: Content, ralph: Ralph, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = list(xapi.statements(filled, content))
    xapi.send(items[:4], ralph.url, auth=(USER, PASSWORD))  # Ralph's one accepted write
    result = _export(filled, ralph.url, monkeypatch)
    assert result.exit_code == 1, result.output
    total = len(items)
    assert result.stderr.startswith("Virhe: Oppimistietovarasto ei ottanut lausekkeita vastaan")
    assert f"Oppimistietovarastossa on 4 / {total} lauseketta; {total - 4} puuttuu." in (
        result.stderr
    )
    assert "Lähetetty" not in result.output
    assert len(ralph.stored()) == 4
