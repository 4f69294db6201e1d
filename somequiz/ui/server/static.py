"""How the servers send what a page loads: compressed, and cached for good when versioned.

A learner's first visit loads ~4.5 MB of JavaScript and CSS in ~85 requests; Voilà sends it
uncompressed, and revalidates every file on each visit. Here (bench/README.md, session 7):

- every text-like response is gzipped (tornado's transform, for pages and API answers);
  static files are compressed once per file and kept in memory, not again for every request;
- files whose URL names their content are cached by the browser for a year without asking
  again: template files with ``?v=<hash>``, lab extension files named by content hash, and
  Voilà's own scripts, whose URLs get a prefix naming the installed files
  (:func:`page_config`): a new release changes the URL, so a cached copy is never stale.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join
from tornado import web
from tornado.httputil import HTTPHeaders

# A year: the longest lifetime browsers honour, and "immutable" spares the reload's checks.
LONG_LIVED = "public, max-age=31536000, immutable"
# Lab extension files are named by webpack's content hash ("84.09c61a35dce1705f.js").
_HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.(js|css)$")
_COMPRESSIBLE = web.GZipContentEncoding.CONTENT_TYPES | {"font/ttf", "font/otf"}
# Once per file, so the slowest level costs nothing later; ~300 files at most.
_LEVEL = 9
# Voilà's scripts are served under voila/static/<VERSION_PREFIX><hash>/ (page_scripts reads it).
VERSION_PREFIX = "v-"


@lru_cache(maxsize=512)
def _compressed(path: str, modified: object) -> bytes:
    """The gzipped file, kept per path and modification time."""
    return gzip.compress(Path(path).read_bytes(), compresslevel=_LEVEL, mtime=0)


class CompressedFiles(web.StaticFileHandler):
    """A static file handler that sends gzipped copies and marks versioned files immutable."""

    def _gzipped(self) -> bytes | None:
        """The compressed body, when the browser takes gzip and the whole file is asked."""
        accepts = "gzip" in self.request.headers.get("Accept-Encoding", "")
        if not accepts or "Range" in self.request.headers or self.absolute_path is None:
            return None
        kind = (self.get_content_type() or "").split(";")[0]
        if not (kind.startswith("text/") or kind in _COMPRESSIBLE):
            return None
        # As tornado's transform: a small file gains less than gzip's own bytes cost.
        if super().get_content_size() < web.GZipContentEncoding.MIN_LENGTH:
            return None
        return _compressed(self.absolute_path, self.modified)

    def versioned(self) -> bool:
        """Whether the URL changes with the file's content."""
        return "v" in self.request.arguments or bool(_HASHED_NAME.search(self.request.path))

    def set_headers(self) -> None:
        super().set_headers()
        if self._gzipped() is not None:
            self.set_header("Content-Encoding", "gzip")
        if self.versioned():
            self.set_header("Cache-Control", LONG_LIVED)

    def get_content_size(self) -> int:
        body = self._gzipped()
        return super().get_content_size() if body is None else len(body)

    @classmethod
    def get_content_version(cls, abspath: str) -> str:
        """The file's hash, for ``?v=`` URLs: tornado asks the class, not a request, and
        :meth:`get_content` here is per request (it may send a compressed copy)."""
        return hashlib.sha512(Path(abspath).read_bytes()).hexdigest()

    def get_content(  # type: ignore[override]
        self, abspath: str, start: int | None = None, end: int | None = None
    ) -> Iterable[bytes]:
        body = self._gzipped()
        if body is None:
            return super().get_content(abspath, start, end)
        return [body]


class VersionedFiles(CompressedFiles):
    """Voilà's scripts, also under a prefix that names the installed files (``v-<hash>/``)."""

    _under_version = False

    def parse_url_path(self, url_path: str) -> str:
        prefix = f"{static_prefix(self.settings)}/"
        self._under_version = url_path.startswith(prefix)
        return str(super().parse_url_path(url_path.removeprefix(prefix)))

    def versioned(self) -> bool:
        return self._under_version or super().versioned()


@cache
def files_version(folders: tuple[str, ...]) -> str:
    """A short hash of the names, sizes and times of the files in ``folders``."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(_files(Path(folder))):
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in folder.rglob("*") if path.is_file())


def static_prefix(settings: dict[str, Any]) -> str:
    """The versioned prefix of Voilà's scripts (``v-<hash>``) in the server's ``settings``."""
    return VERSION_PREFIX + files_version(tuple(settings["voila"].static_paths))


def versioned_scripts(config: dict[str, Any], base_url: str, settings: dict[str, Any]) -> None:
    """Point the page (and webpack's chunk loader) at Voilà's scripts' versioned prefix."""
    config["fullStaticUrl"] = url_path_join(base_url, "voila/static", static_prefix(settings))


def sent_compressed(spec: Any) -> Any:
    """A handler spec whose static files go compressed (and long-lived when versioned)."""
    from jupyter_server.base.handlers import FileFindHandler
    from voila.static_file_handler import MultiStaticFileHandler, TemplateStaticFileHandler

    pattern, handler, *rest = spec
    if not isinstance(handler, type) or not issubclass(
        handler, (FileFindHandler, MultiStaticFileHandler, TemplateStaticFileHandler)
    ):
        return spec
    mixin = VersionedFiles if issubclass(handler, MultiStaticFileHandler) else CompressedFiles
    return (pattern, type(f"Compressed{handler.__name__}", (mixin, handler), {}), *rest)


class ResponseCompression(web.GZipContentEncoding):
    """Tornado's gzip transform, for all but static files: those say ``Accept-Ranges`` and
    compress themselves (:class:`CompressedFiles`: once, whole files only, not ranges)."""

    def transform_first_chunk(
        self, status_code: int, headers: HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, HTTPHeaders, bytes]:
        if "Accept-Ranges" in headers:
            self._gzipping = False
        return super().transform_first_chunk(status_code, headers, chunk, finishing)


def compress_responses(app: web.Application) -> None:
    """Gzip every text-like response (pages, API answers) the server writes itself.

    Tornado's ``compress_response`` setting is read when the application is made, and Voilà
    applies its ``tornado_settings`` only afterwards: the transform is added here instead.
    """
    if ResponseCompression not in app.transforms:
        app.add_transform(ResponseCompression)
