"""The parent simulator: staff play a parent's phone to try the whole product without Twilio.

A simulated message is not a shortcut: it is a Twilio-shaped form, signed with the app's
auth token and posted to /twilio/messages, so it takes exactly the path a real text takes
(signature check, keywords, storage, language detection, translation job). Registered only
when CHANNEL is "simulator"; staff can play only their own school's families.
"""
from __future__ import annotations

import random
import re
import uuid

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, queries
from bot.inbox.auth import login_required
from bot.inbox.display import local_time
from bot.inbox.safety import parse_id, refuse_nul
from bot.inbox.wording import channel_name
from bot.channels.twilio.signature import sign
from storage.db import session_scope
from storage.models import Guardian, SchoolNumber
from storage.queries import school_sender

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
bp.before_request(refuse_nul)

NEW_NUMBER = "new"
CHANNELS = ("sms", "whatsapp")
# Ofcom's drama range (07700 900000-900999): numbers that never reach a real phone.
DRAMA_RANGE = range(900000, 901000)
MAX_BODY_CHARS = 1600
_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")


def _chosen_guardian(db, choice: str) -> Guardian | None:
    """The guardian picked in the form (None for a new number); 404 for another school's."""
    if not choice or choice == NEW_NUMBER:
        return None
    guardian_id = parse_id(choice)
    guardian = queries.get_guardian(db, g.school.id, guardian_id) if guardian_id else None
    if guardian is None:
        abort(404)
    return guardian


def _fresh_number(db) -> str | None:
    """An unused number from the drama range, to play a parent the school has never met."""
    taken = set(db.exec(select(Guardian.phone).where(Guardian.school_id == g.school.id)).all())
    taken |= set(db.exec(select(SchoolNumber.phone)).all())
    free = [f"+447700{n}" for n in DRAMA_RANGE if f"+447700{n}" not in taken]
    return random.choice(free) if free else None


def _account_sid() -> str:
    configured = current_app.config.get("TWILIO_ACCOUNT_SID") or ""
    return configured if _ACCOUNT_SID.match(configured) else "AC" + uuid.uuid5(uuid.NAMESPACE_DNS, "simulator").hex


def twilio_params(phone: str, school_number: str, body: str, channel: str, profile_name: str) -> dict[str, str]:
    """The form Twilio posts for an inbound SMS or WhatsApp message."""
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": _account_sid(), "From": prefix + phone,
        "To": prefix + school_number, "Body": body, "NumMedia": "0", "NumSegments": "1",
        "SmsStatus": "received", "ApiVersion": "2010-04-01",
    }
    if channel == "whatsapp":
        params.update(ProfileName=profile_name, WaId=phone.lstrip("+"))
    return params


def post_to_webhook(params: dict[str, str]):
    """Sign the form as Twilio would and post it to our own webhook; return the response."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    signature = sign(base + "/twilio/messages", params, current_app.config["TWILIO_AUTH_TOKEN"])
    return current_app.test_client().post("/twilio/messages", data=params, base_url=base,
                                          headers={"X-Twilio-Signature": signature})


def _bubble(message) -> dict:
    """One message as the parent's phone shows it."""
    inbound = message.direction == "inbound"
    return {"id": message.id, "mine": inbound, "channel": channel_name(message.channel),
            "text": message.body if inbound else (message.translation or message.body),
            "time": local_time(message.created_at, g.school)}


@bp.get("/")
@login_required
def index():
    """Pick a family, see their phone, write as them."""
    choice = request.args.get("guardian", "")
    with session_scope() as db:
        guardian = _chosen_guardian(db, choice)
        guardians = queries.school_guardians(db, g.school.id)
        on_phone = queries.phone_view_messages(db, g.school.id, guardian.id) if guardian else []
        bubbles = [_bubble(message) for message in on_phone]
    default_channel = guardian.preferred_channel if guardian and guardian.preferred_channel in CHANNELS else "sms"
    return render_template("simulator/index.html", guardians=guardians, guardian=guardian, choice=choice,
                           bubbles=bubbles, channel=request.args.get("channel", default_channel))


def _refusal(body: str, channel: str, phone: str | None, school_number: str | None) -> str | None:
    """Why this simulated message cannot be posted, in words; None when it can."""
    if channel not in CHANNELS or not body.strip() or len(body) > MAX_BODY_CHARS:
        return f"Write a message of 1 to {MAX_BODY_CHARS} characters, sent by SMS or WhatsApp."
    if phone is None:
        return "No free test number is left in the drama range."
    if school_number is None:
        return f"The school has no {channel_name(channel)} number set up."
    return None


def _webhook_refusal(response) -> str | None:
    """The webhook's own words when it did not answer 2xx (a real Twilio post would fail too)."""
    if 200 <= response.status_code < 300:
        return None
    answer = response.get_data(as_text=True).strip()[:300]
    return f"The webhook refused the message ({response.status_code}): {answer}"


@bp.post("/send")
@login_required
def send():
    """Send the parent's message through the signed webhook, exactly as Twilio would."""
    choice, channel = request.form.get("guardian", ""), request.form.get("channel", "sms")
    body = request.form.get("body", "").replace("\r\n", "\n")
    with session_scope() as db:
        guardian = _chosen_guardian(db, choice)
        phone = guardian.phone if guardian else _fresh_number(db)
        school_number = school_sender(db, g.school.id, channel)
    problem = _refusal(body, channel, phone, school_number)
    if problem is None:
        name = guardian.name if guardian and guardian.name else "Parent"
        problem = _webhook_refusal(post_to_webhook(twilio_params(phone, school_number, body, channel, name)))
    if problem:
        flash(problem, "error")
        return redirect(url_for(".index", guardian=choice, channel=channel))
    with session_scope() as db:
        sent_as = queries.guardian_by_phone(db, g.school.id, phone)
        audit.record(db, g.school.id, g.staff.id, audit.SIMULATE_MESSAGE, f"guardian:{sent_as.id}")
    return redirect(url_for(".index", guardian=sent_as.id, channel=channel))


@bp.get("/guardians/<int:guardian_id>/messages")
@login_required
def phone_messages(guardian_id: int):
    """The parent's phone screen as JSON; the page polls it so replies appear when sent."""
    with session_scope() as db:
        if queries.get_guardian(db, g.school.id, guardian_id) is None:
            abort(404)
        messages = queries.phone_view_messages(db, g.school.id, guardian_id)
        return jsonify(messages=[_bubble(m) for m in messages])


@bp.errorhandler(404)
def not_found(_error):
    """A readable page for a family that does not exist (or belongs to another school)."""
    return render_template("error.html", title="Not found",
                           detail="There is no such family in your school."), 404
