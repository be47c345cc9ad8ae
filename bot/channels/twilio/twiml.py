"""The domain's voice verbs (bot/messaging/voice.py) as TwiML, with the voice table applied.

Every <Say> carries the language and voice of bot/channels/twilio/voices.py, slowed down with
SSML prosody and split into sentences with a pause between them; a language with no voice is
never handed to <Say> (a ValueError: the domain must have chosen a recording). Every <Gather>
is followed by a <Redirect>, so silence never hangs up on a parent.
"""
from __future__ import annotations

from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

from bot.channels.twilio.voices import voice_row
from bot.messaging.voice import Gather, Hangup, Play, Record, Say

SLOW = "90%"  # plain and slow: many listeners are hearing the language of home on a poor line


def _say(parent, say: Say) -> None:
    row = voice_row(say.language)
    if row.voice is None:
        raise ValueError(f"no Twilio voice reads {say.language!r}: use a recorded prompt")
    element = parent.say(language=row.say_language, voice=row.voice)
    element.prosody(say.text, rate=SLOW)


def _prompts(parent, prompts) -> None:
    for index, prompt in enumerate(prompts):
        if index:
            parent.pause(length=1)
        if isinstance(prompt, Say):
            _say(parent, prompt)
        elif isinstance(prompt, Play):
            parent.play(prompt.url)
        else:
            raise TypeError(f"not a prompt: {prompt!r}")


def render(verbs: list) -> str:
    """TwiML for one step of a call."""
    response = VoiceResponse()
    for verb in verbs:
        if isinstance(verb, (Say, Play)):
            _prompts(response, [verb])
        elif isinstance(verb, Gather):
            options = dict(action=verb.action, method="POST", num_digits=verb.num_digits, timeout=verb.timeout_seconds)
            speech = voice_row(verb.speech_language).speech_language if verb.speech_language else None
            if speech:
                options.update(input="dtmf speech", language=speech, speech_timeout="auto")
            else:
                options.update(input="dtmf")
            gather = TwimlGather(**options)
            _prompts(gather, verb.prompts)
            response.append(gather)
            response.redirect(verb.on_silence, method="POST")
        elif isinstance(verb, Record):
            _prompts(response, verb.prompts)
            response.record(action=verb.action, method="POST", max_length=verb.max_seconds, timeout=5,
                            finish_on_key="#", play_beep=True, trim="trim-silence",
                            recording_status_callback=verb.callback, recording_status_callback_method="POST",
                            recording_status_callback_event="completed")
        elif isinstance(verb, Hangup):
            response.hangup()
        else:
            raise TypeError(f"not a voice verb: {verb!r}")
    return str(response)
