"""The Twilio channel: twilio-python's REST client, with errors sorted into retry / don't."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from bot.channels.twilio.errors import TRANSIENT_CODES, delivery_error
from bot.messaging.channel import ChannelError, OutboundTemplate, OutboundText, SendResult

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
