"""The Twilio channel: twilio-python's REST client, with errors sorted into retry / don't."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.twilio.errors import TRANSIENT_CODES, delivery_error
from bot.channels.twilio.voices import voice_row
from bot.messaging.channel import ChannelError, OutboundCall, OutboundTemplate, OutboundText, SendResult

class _RedirectingHttpClient(TwilioHttpClient):
    """Sends every request to another base URL (a contract mock), keeping path and query.

    twilio-python has no base-URL setting; only test configuration sets TWILIO_API_BASE_URL.
    """

    def __init__(self, base_url: str):
        super().__init__(timeout=15)
        self._base = urlsplit(base_url)

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        url = urlunsplit((self._base.scheme, self._base.netloc, parts.path, parts.query, ""))
        return super().request(method, url, *args, **kwargs)


# Our clock and Twilio's may differ a little; an earlier copy of the same text is older than this.
CLOCK_SKEW = timedelta(minutes=2)


def _address(number: str, channel: str) -> str:
    return f"whatsapp:{number}" if channel == "whatsapp" else number


def is_transient(error: TwilioRestException) -> bool:
    """Whether a refused request may succeed if retried (rate limits, Twilio outages)."""
    return error.status == 429 or error.status >= 500 or error.code in TRANSIENT_CODES


class TwilioChannel:
    """Sends SMS and WhatsApp messages through Twilio's REST API."""

    name = "twilio"
    simulated = False
    handles_sms_keywords = True

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str | None = None):
        http_client = _RedirectingHttpClient(api_base_url) if api_base_url else TwilioHttpClient(timeout=15)
        self.client = Client(account_sid, auth_token, http_client=http_client)
        self._credentials = (account_sid, auth_token)
        self._api_base = urlsplit(api_base_url) if api_base_url else None

    def send_text(self, message: OutboundText) -> SendResult:
        """Create the message at Twilio; raise ChannelError (permanent or not) on refusal."""
        return self._create(to=_address(message.to, message.channel),
                            from_=_address(message.sender, message.channel),
                            body=message.body, status_callback=message.status_callback)

    def send_template(self, message: OutboundTemplate) -> SendResult:
        """Send an approved WhatsApp template by content SID, with its variables as JSON."""
        return self._create(to=_address(message.to, "whatsapp"), from_=_address(message.sender, "whatsapp"),
                            content_sid=message.content_sid,
                            content_variables=json.dumps(message.variables, ensure_ascii=False),
                            status_callback=message.status_callback)

    def find_sent(self, message: OutboundText, since: datetime) -> str | None:
        """Ask Twilio whether it already has this text (its Messages list for the number, matched on body)."""
        try:
            # One page (one request), newest first: an interrupted send is minutes old.
            recent = self.client.messages.page(to=_address(message.to, message.channel),
                                               from_=_address(message.sender, message.channel), page_size=20)
        except TwilioRestException as error:
            raise ChannelError(error.msg, delivery_error(error.code), permanent=False) from error
        except (TwilioException, OSError) as error:
            raise ChannelError(f"could not reach Twilio: {type(error).__name__}") from error
        for sent in recent:
            created = sent.date_created
            if sent.body == message.body and (created is None or created >= since - CLOCK_SKEW):
                return sent.sid
        return None

    def place_call(self, call: OutboundCall) -> SendResult:
        """Ring a guardian (Calls API): Twilio fetches `answer_url` for TwiML once someone answers."""
        kwargs = dict(to=call.to, from_=call.sender, url=call.answer_url, method="POST", timeout=call.ring_seconds)
        if call.status_callback:
            kwargs.update(status_callback=call.status_callback, status_callback_method="POST",
                          status_callback_event=["initiated", "ringing", "answered", "completed"])
        if call.machine_detection:
            kwargs["machine_detection"] = "Enable"  # AnsweredBy arrives with the answer webhook
        try:
            created = self.client.calls.create(**kwargs)
        except TwilioRestException as error:
            raise ChannelError(error.msg, delivery_error(error.code), permanent=not is_transient(error)) from error
        except (TwilioException, OSError) as error:
            raise ChannelError(f"could not reach Twilio: {type(error).__name__}") from error
        return SendResult(provider_sid=created.sid, status=created.status or "queued")

    def speaks(self, language: str | None) -> bool:
        """Whether a Twilio voice reads this language (tested table, bot/channels/twilio/voices.py)."""
        return voice_row(language).voice is not None

    def hears(self, language: str | None) -> bool:
        """Whether Twilio's speech recognition takes this language."""
        return voice_row(language).speech_language is not None

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        """A recording's audio (mp3), fetched with the account's credentials; never a link for a browser."""
        if not url.startswith("https://api.twilio.com/"):
            raise ChannelError("not a Twilio recording address", permanent=True)
        target = urlsplit(url + ".mp3")
        if self._api_base is not None:  # tests: the contract mock
            target = target._replace(scheme=self._api_base.scheme, netloc=self._api_base.netloc)
        try:
            # Plain requests: twilio-python's client decodes bodies as text, which would break audio.
            response = requests.get(urlunsplit(target), auth=self._credentials, timeout=15, allow_redirects=True)
        except requests.RequestException as error:
            raise ChannelError(f"could not reach Twilio: {type(error).__name__}") from error
        if response.status_code != 200:
            raise ChannelError(f"Twilio answered {response.status_code} for the recording",
                               permanent=response.status_code == 404)
        return response.content, response.headers.get("Content-Type", "audio/mpeg")

    def _create(self, **kwargs) -> SendResult:
        if not kwargs.get("status_callback"):
            kwargs.pop("status_callback", None)
        try:
            created = self.client.messages.create(**kwargs)
        except TwilioRestException as error:
            raise ChannelError(error.msg, delivery_error(error.code), permanent=not is_transient(error)) from error
        except (TwilioException, OSError) as error:  # connection refused, timeout, TLS
            raise ChannelError(f"could not reach Twilio: {type(error).__name__}") from error
        return SendResult(provider_sid=created.sid, status=created.status or "queued")
