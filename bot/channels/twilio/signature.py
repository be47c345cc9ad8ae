"""Twilio webhook signatures (X-Twilio-Signature), checked against the URL Twilio called."""
from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator


def public_url(request: Request, public_base_url: str | None) -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path + query when set, else the request URL.

    Behind TLS termination or a proxy `request.url` is not what Twilio signed, which is the
    most common cause of "signature invalid" in production.
    """
    if not public_base_url:
        return request.url
    query = request.query_string.decode("latin-1")
    return public_base_url.rstrip("/") + request.path + (f"?{query}" if query else "")


def is_valid_request(request: Request, auth_token: str, public_base_url: str | None) -> bool:
    """True when the request carries a valid signature over every POST parameter."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    # Pass the MultiDict itself: Twilio signs every value of a repeated parameter.
    return RequestValidator(auth_token).validate(public_url(request, public_base_url), request.form, signature)


def sign(url: str, params: dict[str, str], auth_token: str) -> str:
    """The signature Twilio would send for a form POST of `params` to `url`."""
    return RequestValidator(auth_token).compute_signature(url, params)
