"""SECURITY.md stays true: every test it names exists, and the claims that need no server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from somequiz.commands import staff
from somequiz.errors import ConfigError
from somequiz.ui.server.app import learner_root, voila_config

ROOT = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_test_named_in_security_md_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    named = NAMED.findall(text)
    assert len(named) > 30
    missing = []
    for path, name in named:
        source = ROOT / path
        if not source.is_file() or not re.search(
            rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M
        ):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_nginx_strips_the_identity_header() -> None:
    config = (ROOT / "deploy" / "nginx-somequiz.conf").read_text(encoding="utf-8")
    assert re.search(r'^\s*proxy_set_header\s+X-Remote-User\s+"";', config, re.M)


def test_staff_servers_always_have_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    started: dict[str, str | None] = {}

    def fake_serve(host: str, port: int, root: Path, *, token: str | None = None) -> None:
        started[root.name] = token

    monkeypatch.setattr(staff, "serve", fake_serve)
    monkeypatch.delenv("SOMEQUIZ_HR_TOKEN", raising=False)
    monkeypatch.setenv("SOMEQUIZ_TRAINER_TOKEN", "kouluttajan-tunnus-joka-on-tarpeeksi-pitka")
    staff._run("hr", "127.0.0.1", None)
    staff._run("trainer", "127.0.0.1", None)
    assert started["hr"] and len(started["hr"]) >= 32  # random for this start
    assert started["trainer"] == "kouluttajan-tunnus-joka-on-tarpeeksi-pitka"
    assert voila_config("127.0.0.1", 8867, learner_root(), "t").Voila.token == "t"
    assert "token" not in voila_config("127.0.0.1", 8866, learner_root()).Voila


def test_a_set_token_is_long_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(staff, "serve", lambda *args, **kwargs: None)
    secret = "x" * 40
    monkeypatch.setenv("SOMEQUIZ_HR_TOKEN", secret)
    staff._run("hr", "127.0.0.1", None)
    out = capsys.readouterr().out
    assert secret not in out and "?token=<SOMEQUIZ_HR_TOKEN>" in out
    monkeypatch.setenv("SOMEQUIZ_HR_TOKEN", "lyhyt")
    with pytest.raises(ConfigError, match="liian lyhyt"):
        staff._run("hr", "127.0.0.1", None)
