"""Helpers for phone-call tests: Twilio's voice webhooks posted signed, TwiML read as XML."""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from sqlmodel import select

from storage.models import Call
from tests.support.services import ACCOUNT_SID, PUBLIC_BASE_URL, post_signed


def call_sid() -> str:
    """A fresh Twilio-shaped call sid."""
    return "CA" + uuid.uuid4().hex


def calls_of(db, guardian) -> list[Call]:
    """A guardian's calls, oldest first (fresh from the database)."""
    db.expire_all()
    return list(db.exec(select(Call).where(Call.guardian_id == guardian.id).order_by(Call.id)).all())


@dataclass
class Twiml:
    """One TwiML answer, parsed."""

    root: ET.Element
    raw: str

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def says(self) -> list[ET.Element]:
        return list(self.root.iter("Say"))

    def spoken(self) -> str:
        return " ".join("".join(say.itertext()) for say in self.says())

    def gather(self) -> ET.Element | None:
        return self.root.find("Gather")

    def record(self) -> ET.Element | None:
        return self.root.find("Record")

    def plays(self) -> list[str]:
        return [play.text for play in self.root.iter("Play")]


def twiml(response) -> Twiml:
    """The response as TwiML (asserting it is XML with a <Response> root)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    raw = response.get_data(as_text=True)
    root = ET.fromstring(raw)
    assert root.tag == "Response"
    return Twiml(root, raw)


def path_of(url: str) -> str:
    """A URL from TwiML as the path (and query) the test client posts to; it must be ours."""
    assert url.startswith(PUBLIC_BASE_URL + "/twilio/voice/"), url
    return url[len(PUBLIC_BASE_URL):]


def call_form(call: Call, **fields) -> dict[str, str]:
    """The fields Twilio posts on every voice webhook of an outbound call."""
    form = {"CallSid": call.provider_sid or call_sid(), "AccountSid": ACCOUNT_SID, "From": "+447700900900",
            "To": "+447700900901", "Direction": "outbound-api", "CallStatus": "in-progress", "ApiVersion": "2010-04-01"}
    form.update({key: str(value) for key, value in fields.items()})
    return form


def answer(app, call: Call, answered_by: str = "human") -> Twiml:
    """The guardian (or a machine) picks up."""
    return twiml(post_signed(app, f"/twilio/voice/answer?c={call.id}", call_form(call, AnsweredBy=answered_by)))


def follow(app, call: Call, url: str, **fields) -> Twiml:
    """Post the next step to a URL the previous TwiML gave (a key, speech, a recording, or silence)."""
    return twiml(post_signed(app, path_of(url), call_form(call, **fields)))


def press(app, call: Call, previous: Twiml, digits: str) -> Twiml:
    """Press keys at the previous answer's <Gather>."""
    gather = previous.gather()
    assert gather is not None, previous.raw
    return follow(app, call, gather.get("action"), Digits=digits)


def say(app, call: Call, previous: Twiml, speech: str, confidence: str = "0.92") -> Twiml:
    """Speak at the previous answer's <Gather> (Twilio posts SpeechResult)."""
    gather = previous.gather()
    assert gather is not None and "speech" in gather.get("input"), previous.raw
    return follow(app, call, gather.get("action"), SpeechResult=speech, Confidence=confidence)


def silence(app, call: Call, previous: Twiml) -> Twiml:
    """Say nothing: Twilio falls through the <Gather> to the <Redirect> that follows it."""
    redirect = previous.root.find("Redirect")
    assert redirect is not None, previous.raw
    return follow(app, call, redirect.text)


def status(app, call: Call, call_status: str, **fields):
    """Twilio's status callback for this call."""
    form = call_form(call, CallStatus=call_status, **fields)
    return post_signed(app, f"/twilio/voice/status?c={call.id}", form)
