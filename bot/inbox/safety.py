"""What every page the inbox serves carries: security headers, no caching of family data, text
that cannot reorder itself, and no state changed by a navigation from another site.
"""
from __future__ import annotations

import re

from flask import Flask, Response, abort, request
from markupsafe import Markup
from werkzeug.routing import IntegerConverter

# Frames, plugins, inline script and style, other origins: none of them. The pages use only
# their own stylesheet and script files.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069): a parent's message or a
# name containing them could show staff "Hola exe.png" for a file called "Hola gnp.exe". They are
# shown as visible marks instead; the harmless marks RLM/LRM (U+200E/U+200F) are kept.
_BIDI_CONTROLS = {code: f"[U+{code:04X}]" for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def security_headers(response: Response) -> Response:
    """Headers for every response; pages and data are never stored by the browser or a proxy."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def visible_bidi_controls(value):
    """Jinja's finalize: every value a template prints, with bidi controls shown, not obeyed."""
    if isinstance(value, str) and any(ord(ch) in _BIDI_CONTROLS for ch in value):
        shown = str.translate(value, _BIDI_CONTROLS)
        return Markup(shown) if isinstance(value, Markup) else shown
    return value


def from_another_site() -> bool:
    """Whether this request is a navigation started on another site (Sec-Fetch-Site: cross-site).

    Such a GET still shows the page but changes nothing (a link elsewhere must not mark a
    conversation read); browsers that send no Sec-Fetch-Site are treated as same-site.
    """
    return request.headers.get("Sec-Fetch-Site") == "cross-site"


MAX_ID = 2**31 - 1  # the database's integer ids: anything larger names no row
_ID = re.compile(r"[1-9][0-9]{0,9}")


class RowIdConverter(IntegerConverter):
    """`<int:...>` in every route: a larger number than any row id is a 404, not a database error."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def parse_id(text: str | None) -> int | None:
    """A row id typed into a form, or None for anything else ("", "abc", "²", 99999999999999999999)."""
    if text is None or not _ID.fullmatch(text) or int(text) > MAX_ID:
        return None
    return int(text)


def refuse_nul() -> None:
    """A staff form or link with a NUL character is refused (400): no text column can store one."""
    for values in (request.args, request.form):
        for name, value in values.items(multi=True):
            if "\x00" in name or "\x00" in value:
                abort(400, description=f"The field {name!r} contains a NUL character, which cannot be stored.")


def init_app(app: Flask) -> None:
    """Install the headers on every response and the bidi guard on every template.

    The id converter is installed in create_app before any blueprint adds its routes.
    """
    app.after_request(security_headers)
    app.jinja_env.finalize = visible_bidi_controls
