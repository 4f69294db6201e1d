"""The page's chunks joined into one file: what is joined, how it is sent, what the page is told."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import brotli
import pytest
from tornado import web
from tornado_helpers import fetch

from somequiz.ui.server import page_scripts
from somequiz.ui.server.page_scripts import JoinedScripts, chunk_url, listed_urls
from somequiz.ui.server.static import LONG_LIVED

CHUNK = '(self.webpackChunk_x=self.webpackChunk_x||[]).push([[1],{1:function(){"use strict"}}])'


@pytest.fixture
def folders(tmp_path: Path) -> tuple[list[str], list[str]]:
    """A static folder with two chunks, a lab extension folder with one (Voilà's two roots)."""
    static, labextensions = tmp_path / "static", tmp_path / "labextensions"
    (labextensions / "ext" / "static").mkdir(parents=True)
    static.mkdir()
    (static / "1.voila.js").write_text(CHUNK * 50, encoding="utf-8")
    (static / "2.voila.js").write_text("var two = 2", encoding="utf-8")  # no final ";"
    (labextensions / "ext" / "static" / "3.abcdef12.js").write_text("var three", encoding="utf-8")
    (tmp_path / "secret.js").write_text("var secret", encoding="utf-8")
    return [str(static)], [str(labextensions)]


LISTED = [
    "voila/static/1.voila.js",
    "voila/static/2.voila.js",
    "voila/labextensions/ext/static/3.abcdef12.js",
]


def test_listed_chunks_are_joined_in_order_and_missing_ones_are_named(
    folders: tuple[list[str], list[str]],
) -> None:
    listed = [*LISTED, "voila/static/9.voila.js", "voila/static/../secret.js"]
    joined = JoinedScripts.build(listed, *folders)
    assert joined.joined == 3
    assert joined.missing == ("voila/static/9.voila.js", "voila/static/../secret.js")
    text = joined.body.decode()
    assert text.index(CHUNK) < text.index("var two = 2;\n") < text.index("var three;\n")
    assert gzip.decompress(joined.encoded["gzip"]) == joined.body


def test_the_name_changes_with_the_content(folders: tuple[list[str], list[str]]) -> None:
    before = JoinedScripts.build(LISTED, *folders).name
    Path(folders[0][0], "2.voila.js").write_text("var two = 3", encoding="utf-8")
    after = JoinedScripts.build(LISTED, *folders).name
    assert before != after and after.startswith("page-scripts-") and after.endswith(".js")


def test_the_brotli_copy_is_made_once_and_then_read_from_the_cache(
    folders: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = JoinedScripts.build(LISTED, *folders)
    assert first.encoding_for("gzip, deflate, br, zstd") == "gzip"  # brotli not made yet
    first.add_brotli(cache)
    assert brotli.decompress(first.encoded["br"]) == first.body
    kept = cache / f"{first.name}.br"
    kept.write_bytes(b"from the cache")
    second = JoinedScripts.build(LISTED, *folders)
    second.add_brotli(cache)
    assert second.encoded["br"] == b"from the cache"
    assert [path.name for path in cache.iterdir()] == [kept.name]  # no partial file left


@pytest.mark.parametrize(
    ("accepted", "chosen"),
    [
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=1.0, gzip;q=0.8", "br"),
        ("gzip", "gzip"),
        ("identity", None),
        ("", None),
        ("brotli, xgzip", None),
    ],
)
def test_the_best_encoding_the_browser_takes_is_chosen(
    folders: tuple[list[str], list[str]], tmp_path: Path, accepted: str, chosen: str | None
) -> None:
    joined = JoinedScripts.build(LISTED, *folders)
    joined.add_brotli(tmp_path)
    assert joined.encoding_for(accepted) == chosen


def test_the_file_is_sent_compressed_and_kept_a_year_under_its_name_only(
    folders: tuple[list[str], list[str]], tmp_path: Path
) -> None:
    joined = JoinedScripts.build(LISTED, *folders)

    def make_app() -> web.Application:
        app = web.Application()
        app.add_handlers(".*$", [page_scripts.install(app, "/", joined, tmp_path)])
        return app

    name = joined.name
    paths = [f"/voila/somequiz/{name}", "/voila/somequiz/page-scripts-0123456789abcdef.js"]
    sent, unknown = fetch(make_app, paths, {"Accept-Encoding": "gzip"})
    joined.add_brotli(tmp_path)  # as the server's background thread does, but surely done now
    [smaller] = fetch(make_app, paths[:1], {"Accept-Encoding": "gzip, br"})
    assert smaller.headers["Content-Encoding"] == "br"
    assert brotli.decompress(smaller.body) == joined.body
    assert sent.code == 200 and unknown.code == 404
    assert sent.headers["Content-Encoding"] == "gzip"
    assert sent.headers["Cache-Control"] == LONG_LIVED
    assert sent.headers["Content-Type"].startswith("application/javascript")
    [plain] = fetch(make_app, paths[:1], {})
    assert "Content-Encoding" not in plain.headers
    assert gzip.decompress(sent.body) == plain.body


def test_the_page_is_told_the_joined_file_and_the_entries_to_fetch_early(
    folders: tuple[list[str], list[str]],
) -> None:
    joined = JoinedScripts.build(LISTED, *folders)
    config: dict[str, Any] = {
        "fullLabextensionsUrl": "/base/voila/labextensions",
        "federated_extensions": [{"name": "@a/b", "load": "static/remoteEntry.12ab.js"}],
    }
    page_scripts.page_scripts(config, "/base/", {page_scripts.SETTINGS_KEY: joined})
    assert config[page_scripts.CONFIG_KEY] == {
        "joined": f"/base/voila/somequiz/{joined.name}",
        "entries": ["/base/voila/labextensions/@a/b/static/remoteEntry.12ab.js"],
    }
    page_scripts.page_scripts(config, "/base/", {})  # the server does not join them
    assert config[page_scripts.CONFIG_KEY]["joined"] is None


@pytest.mark.parametrize(
    ("path", "listed"),
    [
        ("/voila/static/v-864b6b5d595b2e60/5764.voila.js", "voila/static/5764.voila.js"),
        (
            "/voila/labextensions/anywidget/static/2.3dbf81c0.js",
            "voila/labextensions/anywidget/static/2.3dbf81c0.js",
        ),
        ("/voila/static/v-864b6b5d595b2e60/voila.js", None),
        ("/voila/labextensions/anywidget/static/remoteEntry.698dcaf7.js", None),
        ("/voila/templates/somequiz/static/voila-style.js", None),
        ("/voila/somequiz/page-scripts-41bce07928804675.js", None),
    ],
)
def test_chunks_are_told_from_files_the_page_loads_by_name(path: str, listed: str | None) -> None:
    assert chunk_url(path) == listed


def test_the_shipped_list_names_chunks_only() -> None:
    listed = listed_urls()
    recorded = json.loads(page_scripts.LIST.read_text(encoding="utf-8"))["recorded_with"]
    assert len(listed) > 20 and set(recorded) == {"voila", "jupyterlab_widgets", "anywidget"}
    assert all(chunk_url(url) == url for url in listed)
