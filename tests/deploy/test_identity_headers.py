"""The nginx recipe clears every identity header the learner processes may read (issue 16,
low): the SSO identity and its display name, as the example environment names them."""

from __future__ import annotations

import re
from pathlib import Path

from somequiz.ui.identity import HEADER_ENV, NAME_HEADER_ENV, configured_headers

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _example_headers() -> dict[str, str]:
    """The identity header settings of deploy/somequiz.env.example (commented out or not)."""
    text = (DEPLOY / "somequiz.env.example").read_text(encoding="utf-8")
    found = re.findall(r"^#?\s*(SOMEQUIZ_IDENTITY\w*_HEADER)=(\S+)", text, re.M)
    return dict(found)


def test_nginx_clears_every_identity_header_the_app_may_read() -> None:
    settings = _example_headers()
    assert set(settings) == {HEADER_ENV, NAME_HEADER_ENV}
    config = (DEPLOY / "nginx-somequiz.conf").read_text(encoding="utf-8")
    cleared = set(re.findall(r'^\s*proxy_set_header\s+(\S+)\s+"";', config, re.M))
    read = configured_headers(settings)
    assert len(read) == 2
    assert {h.lower() for h in read} <= {h.lower() for h in cleared}
