"""Generated learner notebooks are in sync, and the learner server is configured safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from somequiz.cli import main
from somequiz.content.folder import Content
from somequiz.ui import TEMPLATE
from somequiz.ui.kernel.main import PageKernelSpecs
from somequiz.ui.server import browser
from somequiz.ui.server.app import (
    CompiledTemplates,
    learner_root,
    set_page_cookies,
    share_compiled_templates,
    use_packaged_templates,
    voila_config,
)
from somequiz.ui.server.limits import CappedKernelManager, PageLoadGuard
from somequiz.ui.server.notebooks import expected_notebooks, sync_notebooks


def test_learner_notebooks_are_in_sync_with_the_scenarios(content: Content) -> None:
    stale = sync_notebooks(content, learner_root(), check=True)
    assert stale == [], f"run 'somequiz notebooks' ({', '.join(stale)})"


def test_notebooks_command_writes_and_checks(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "learner"
    assert runner.invoke(main, ["notebooks", "--check", "--root", str(root)]).exit_code == 1
    assert runner.invoke(main, ["notebooks", "--root", str(root)]).exit_code == 0
    assert runner.invoke(main, ["notebooks", "--check", "--root", str(root)]).exit_code == 0
    (root / "skenaariot" / "vanha.ipynb").write_text("{}", encoding="utf-8")
    assert runner.invoke(main, ["notebooks", "--check", "--root", str(root)]).exit_code == 1


def test_notebooks_are_thin(content: Content) -> None:
    for relative, text in expected_notebooks(content).items():
        cells = json.loads(text)["cells"]
        assert 2 <= len(cells) <= 4, relative
        code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert len(code.splitlines()) <= 3, relative
        assert "QUERY_STRING" not in code and "query" not in code.lower()


def test_only_learner_notebooks_are_served() -> None:
    root = learner_root()
    assert root.name == "learner" and root.parent.name == "notebooks"
    served = {p.relative_to(root).as_posix() for p in root.rglob("*.ipynb")}
    assert "kurssi.ipynb" in served
    assert all(p == "kurssi.ipynb" or p.startswith("skenaariot/") for p in served)


def test_voila_config(monkeypatch: pytest.MonkeyPatch) -> None:
    from voila import notebook_renderer

    monkeypatch.setattr(notebook_renderer, "VoilaExporter", notebook_renderer.VoilaExporter)
    config = voila_config("127.0.0.1", 8866, learner_root())
    assert isinstance(notebook_renderer.VoilaExporter.compiled_templates, CompiledTemplates)
    voila = config.VoilaConfiguration
    assert voila.strip_sources is True and voila.show_tracebacks is False
    assert voila.allow_template_override == "NO" and voila.allow_theme_override == "NO"
    assert isinstance(voila.prelaunch_hook, PageLoadGuard)
    assert voila.prelaunch_hook.then is set_page_cookies
    assert voila.multi_kernel_manager_class is CappedKernelManager
    assert voila.kernel_spec_manager_class is PageKernelSpecs
    assert voila.file_allowlist == []
    kernels = config.MappingKernelManager
    assert kernels.cull_idle_timeout == 1200 and kernels.cull_interval == 60
    assert kernels.cull_connected is False


class PageRequest:
    """Enough of a tornado handler for the page hook: cookies in, cookies out."""

    def __init__(self, cookies: dict[str, str] | None = None, protocol: str = "http") -> None:
        self.cookies = dict(cookies or {})
        self.set: dict[str, tuple[str, dict[str, object]]] = {}
        self.request = type("Request", (), {"protocol": protocol})()
        self.touched = False

    def get_cookie(self, name: str) -> str | None:
        return self.cookies.get(name)

    def set_cookie(self, name: str, value: str, **options: object) -> None:
        self.set[name] = (value, options)

    @property
    def xsrf_token(self) -> bytes:
        self.touched = True
        return b"x"


def test_page_hook_sets_a_signed_httponly_browser_cookie_and_the_xsrf_token() -> None:
    first = PageRequest(protocol="https")
    set_page_cookies(first, None, ".")
    assert first.touched
    value, options = first.set[browser.COOKIE]
    assert options == {"httponly": True, "samesite": "Lax", "secure": True, "path": "/"}
    same = browser.page_browser(first)
    assert (same is not None and same not in value) or value.count("|") >= 3
    again = PageRequest({browser.COOKIE: value})
    set_page_cookies(again, None, ".")
    assert again.set == {} and browser.page_browser(again) == same
    forged = PageRequest({browser.COOKIE: value.replace(value[-4:], "0000")})
    assert browser.read(forged) is None
    set_page_cookies(forged, None, ".")
    assert browser.page_browser(forged) not in {None, same}


def test_page_templates_are_compiled_once_per_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from voila import notebook_renderer
    from voila.paths import collect_template_paths

    # share_compiled_templates replaces Voilà's exporter class; put it back afterwards.
    monkeypatch.setattr(notebook_renderer, "VoilaExporter", notebook_renderer.VoilaExporter)
    cache = CompiledTemplates()
    share_compiled_templates(cache)
    use_packaged_templates()
    paths = collect_template_paths(["voila", "nbconvert"], TEMPLATE)

    def page_template(compiling: bool) -> object:
        exporter = notebook_renderer.VoilaExporter(template_paths=paths, template_name=TEMPLATE)
        environment = exporter.environment
        if not compiling:

            def compile_again(*args: object, **kwargs: object) -> None:
                raise AssertionError(f"compiled again: {args[1]}")

            monkeypatch.setattr(environment, "compile", compile_again)
        return exporter.template

    first = page_template(compiling=True)
    assert len(cache._compiled) == 1  # the templates it extends load when a page renders
    assert page_template(compiling=False) is not first
