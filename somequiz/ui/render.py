"""HTML of the learner screens from Jinja templates with autoescaping.

Every value that reaches a template is escaped by Jinja; no template marks anything ``safe``.
Nothing here imports ipywidgets: the widgets only carry the result.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from somequiz.i18n import Messages

_ICONS = {
    "phone": (
        "M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 "
        "0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 "
        "3.6a1 1 0 0 1-.25 1z"
    ),
    "email": (
        "M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm8 7 8-5H4l8 "
        "5zm0 2L4 8v10h16V8l-8 5z"
    ),
    "chat": "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-4 4V5a2 2 0 0 1 2-2z",
    "people": (
        "M16 11a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm0 2c-2.3 0-7 "
        "1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0c-.3 0-.6 0-1 .05A4.2 4.2 0 0 1 17 16.5V19h6"
        "v-2.5c0-2.3-4.7-3.5-7-3.5z"
    ),
}
_CHANNEL_ICON = {
    "phone": "phone",
    "email": "email",
    "face-to-face": "people",
    "teams": "people",
}


def channel_icon(channel: str) -> str:
    """The SVG path of a channel's icon."""
    return _ICONS[_CHANNEL_ICON.get(channel, "chat")]


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment: autoescaping on for every template, undefined is an error."""
    return Environment(
        loader=PackageLoader("somequiz.ui", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )


def render(template: str, t: Messages, **values: Any) -> str:
    """Render ``template`` with the UI strings ``t`` and ``values`` (all escaped)."""
    return environment().get_template(template).render(t=t, **values)
