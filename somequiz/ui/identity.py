"""Identity from a single sign-on proxy, when a deployment has one.

The proxy sets a header (``SOMEQUIZ_IDENTITY_HEADER``, e.g. ``X-Remote-User``) and optionally
a display-name header (``SOMEQUIZ_IDENTITY_NAME_HEADER``). Voilà hands configured headers to
the kernel as ``HTTP_<NAME>`` environment variables (``http_header_envs``). Only trust this
behind a proxy that strips these headers from the learner's own requests.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

HEADER_ENV = "SOMEQUIZ_IDENTITY_HEADER"
# The page's browser, as the learner server verified it from its signed cookie before it
# started the kernel (somequiz.ui.server.browser); the browser cannot set a kernel's environment.
BROWSER_ENV = "SOMEQUIZ_BROWSER"
NAME_HEADER_ENV = "SOMEQUIZ_IDENTITY_NAME_HEADER"


@dataclass(frozen=True)
class SsoIdentity:
    """Who the proxy says the learner is."""

    external_id: str
    name: str


def configured_headers(environ: Mapping[str, str] = os.environ) -> list[str]:
    """The header names the learner server must pass to kernels."""
    return [h for h in (environ.get(HEADER_ENV, ""), environ.get(NAME_HEADER_ENV, "")) if h]


def _env_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def sso_identity(environ: Mapping[str, str] = os.environ) -> SsoIdentity | None:
    """The identity in this kernel's request headers, or None without single sign-on."""
    header = environ.get(HEADER_ENV, "")
    if not header:
        return None
    external_id = environ.get(_env_name(header), "").strip()[:200]
    if not external_id:
        return None
    name_header = environ.get(NAME_HEADER_ENV, "")
    name = environ.get(_env_name(name_header), "").strip()[:200] if name_header else ""
    return SsoIdentity(external_id, " ".join(name.split()) or external_id)


def page_browser(environ: Mapping[str, str] = os.environ) -> str | None:
    """The id of the browser this page's kernel was started for, when the server set one."""
    return environ.get(BROWSER_ENV) or None
