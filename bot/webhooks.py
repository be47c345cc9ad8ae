"""Twilio's webhooks: inbound messages and delivery status callbacks.

Every request's signature is checked first; a bad or missing one gets 403 and nothing is
stored. Inbound messages are answered with an empty TwiML <Response/>: replies go out later
through the REST API, so Twilio never waits on translation or sending.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from bot.inbound import BadWebhook, UnknownSchoolNumber, parse_inbound, receive
from bot.delivery import apply_status_callback
from bot.outbound import enqueue_delivery
from bot.signature import is_valid_request
from storage.db import session_scope
from storage.queries import interrupted_send, message_by_sid

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/twilio")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def _twiml(body: str = EMPTY_TWIML) -> Response:
    return Response(body, mimetype="text/xml")


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain")


@bp.before_request
def check_signature():
    """Refuse anything Twilio did not sign with this account's token."""
    config = current_app.config
    if not is_valid_request(request, config["TWILIO_AUTH_TOKEN"], config.get("PUBLIC_BASE_URL")):
        log.warning("refused %s: missing or invalid X-Twilio-Signature", request.path)
        abort(_plain(403, "Invalid or missing X-Twilio-Signature."))


@bp.post("/messages")
def inbound_message():
    """An SMS or WhatsApp message from a parent."""
    try:
        receive(parse_inbound(request.form))
    except BadWebhook as error:
        log.warning("rejected inbound webhook: %s", error)
        return _plain(400, f"Bad request: {error}.")
    except UnknownSchoolNumber as error:
        log.warning("rejected inbound webhook: %s", error)
        return _plain(404, f"Not found: {error}.")
    return _twiml()


@bp.post("/status")
def status_callback():
    """Twilio reporting a message's delivery status (in any order)."""
    sid, status = request.form.get("MessageSid", ""), request.form.get("MessageStatus", "")
    if not sid or not status:
        return _plain(400, "Bad request: MessageSid and MessageStatus are required.")
    error_code = request.form.get("ErrorCode") or None
    if error_code is not None and not error_code.isdigit():
        return _plain(400, "Bad request: ErrorCode must be a number.")
    with session_scope() as session:
        message = message_by_sid(session, sid) or interrupted_send(session, request.args.get("m"), sid)
        if message is None:
            return _plain(200, "Unknown message; ignored.")
        failover = apply_status_callback(session, message, status.lower(), int(error_code) if error_code else None)
    if failover is not None:
        enqueue_delivery(failover)
    return _plain(200, "OK")
