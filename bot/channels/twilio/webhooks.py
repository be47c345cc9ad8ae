"""Twilio's webhooks: inbound messages and delivery status callbacks (courier's shape).

Every request's signature is checked first; a bad or missing one gets 403 and nothing is
stored. An inbound message is parsed, stored once under its MessageSid and handed to the
worker; Twilio gets an empty TwiML <Response/> at once and never waits on anything else.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from bot.channels.twilio.forms import BadWebhook, parse_message_form, parse_status_form
from bot.channels.twilio.signature import is_valid_request
from bot.messaging.inbound import InvalidAddress, UnknownSchoolNumber, store_inbound
from bot.messaging.status import apply_status_update
from storage.db import session_scope

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(body: str = EMPTY_TWIML) -> Response:
    return Response(body, mimetype="text/xml")


def plain(status: int, text: str) -> Response:
    """A short plain-text answer to Twilio (it logs the body of anything but a 2xx)."""
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.before_request
def check_signature():
    """Refuse anything Twilio did not sign with this account's token (every Twilio blueprint)."""
    config = current_app.config
    if not is_valid_request(request, config["TWILIO_AUTH_TOKEN"], config.get("PUBLIC_BASE_URL")):
        log.warning("refused %s: missing or invalid X-Twilio-Signature", request.path)
        abort(plain(403, "Invalid or missing X-Twilio-Signature."))


@bp.post("/messages")
def inbound_message():
    """An SMS or WhatsApp message from a parent: stored, handed to the worker, answered."""
    try:
        store_inbound(parse_message_form(request.form))
    except (BadWebhook, InvalidAddress) as error:
        log.warning("rejected inbound webhook: %s", error)
        return plain(400, f"Bad request: {error}.")
    except UnknownSchoolNumber as error:
        log.warning("rejected inbound webhook: %s", error)
        return plain(404, f"Not found: {error}.")
    return _twiml()


@bp.post("/status")
def status_callback():
    """Twilio reporting a message's delivery status (in any order)."""
    try:
        update = parse_status_form(request.form, request.args)
    except BadWebhook as error:
        return plain(400, f"Bad request: {error}.")
    with session_scope() as session:
        if not apply_status_update(session, update):
            return plain(200, "Unknown message; ignored.")
    return plain(200, "OK")
