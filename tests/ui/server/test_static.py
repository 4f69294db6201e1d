"""The servers' static files: gzipped once, whole files only; a year's cache when versioned."""

from __future__ import annotations

import gzip
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tornado import web
from tornado_helpers import fetch
from voila.static_file_handler import MultiStaticFileHandler

from somequiz.ui.server.static import (
    LONG_LIVED,
    CompressedFiles,
    compress_responses,
    files_version,
    sent_compressed,
    static_prefix,
    versioned_scripts,
)

SCRIPT = "const answer = 42;\n" * 200  # compressible, well over 1 KiB


class Page(web.RequestHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write("<p>Ladataan kurssia…</p>" * 100)


def _fetch(folder: Path, paths: list[str], headers: dict[str, str]) -> list[Any]:
    """The answers of a server with the static handler on ``folder``."""

    def make_app() -> web.Application:
        spec = (r"/voila/static/(.*)", MultiStaticFileHandler, {"paths": [str(folder)]})
        app = web.Application(
            [sent_compressed(spec), (r"/page", Page)],
            voila=SimpleNamespace(static_paths=[str(folder)]),
        )
        compress_responses(app)
        return app

    return fetch(make_app, paths, headers)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "voila.js").write_text(SCRIPT, encoding="utf-8")
    (tmp_path / "small.js").write_text("let a = 1;\n", encoding="utf-8")
    return tmp_path


def test_whole_scripts_go_gzipped_and_versioned_ones_are_kept_a_year(folder: Path) -> None:
    prefix = static_prefix({"voila": SimpleNamespace(static_paths=[str(folder)])})
    paths = [f"/voila/static/{prefix}/voila.js", "/voila/static/voila.js", "/page"]
    versioned, plain, page = _fetch(folder, paths, {"Accept-Encoding": "gzip"})
    for answer in (versioned, plain, page):
        assert answer.code == 200 and answer.headers["Content-Encoding"] == "gzip"
        assert answer.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(versioned.body).decode() == SCRIPT
    assert int(versioned.headers["Content-Length"]) == len(versioned.body)
    assert versioned.headers["Cache-Control"] == LONG_LIVED
    assert "Cache-Control" not in plain.headers  # not versioned: the browser asks again


def test_ranges_small_files_and_other_browsers_get_the_file_as_it_is(folder: Path) -> None:
    ranged, small = _fetch(
        folder,
        ["/voila/static/voila.js", "/voila/static/small.js"],
        {"Accept-Encoding": "gzip", "Range": "bytes=0-99"},
    )
    assert ranged.code == 206 and ranged.body == SCRIPT.encode()[:100]
    assert small.code == 200 and small.body == b"let a = 1;\n"
    for answer in (ranged, small):
        assert "Content-Encoding" not in answer.headers
    [identity] = _fetch(folder, ["/voila/static/voila.js"], {})
    assert identity.body == SCRIPT.encode() and "Content-Encoding" not in identity.headers


def test_the_page_names_the_version_of_the_files_it_loads(folder: Path) -> None:
    settings = {"voila": SimpleNamespace(static_paths=[str(folder)])}
    config: dict[str, Any] = {}
    versioned_scripts(config, "/", settings)
    before = files_version((str(folder),))
    assert config["fullStaticUrl"] == f"/voila/static/v-{before}"
    (folder / "voila.js").write_text(SCRIPT + "// a new release\n", encoding="utf-8")
    files_version.cache_clear()  # a server reads its files once, when it starts
    assert files_version((str(folder),)) != before


def test_a_file_version_is_its_hash_asked_of_the_class(tmp_path: Path) -> None:
    # Tornado computes ?v= versions on the handler class, outside any request: this failed
    # ("get_content() missing 'abspath'") and left every static URL unversioned.
    path = tmp_path / "a.js"
    path.write_text("var a = 1;\n")
    version = CompressedFiles.get_content_version(str(path))
    assert version == web.StaticFileHandler.get_content_version(str(path))
