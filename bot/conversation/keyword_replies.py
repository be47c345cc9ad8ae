"""STOP, START and HELP from a parent: what they change, and what the parent is told back."""
from __future__ import annotations

from flask import current_app
from sqlmodel import Session

from bot.conversation import flow_runs
from bot.guardians import mark_opted_in, mark_opted_out
from bot.language.i18n import base_language, catalogue_language
from bot.language.keywords import KeywordMatch, match_keyword
from bot.messaging.outbound import queue_catalogue_message
from storage.models import Guardian, Message, School
from storage.queries import conversation_for

REPLY_KEYS = {"stop": "optout.confirm", "start": "optin.confirm", "help": "help.reply"}


def keyword_for(session: Session, message: Message, guardian: Guardian) -> KeywordMatch | None:
    """The keyword this message is, unless it is really an answer to the parent's question flow."""
    keyword = match_keyword(message.body)
    # "YES" is one of Twilio's opt-in words, but to a parent answering a question it means yes.
    if keyword and keyword.action == "start" and not guardian.opted_out and flow_runs.live_run(session, guardian.id):
        return None
    return keyword


def apply_keyword(session: Session, keyword: KeywordMatch, guardian: Guardian, school: School, channel: str,
                  script: str | None = None) -> None:
    """Opt out, opt in or help, and queue the reply in the parent's language."""
    if keyword.action == "stop":
        mark_opted_out(guardian)
        flow_runs.end_for_opt_out(session, guardian.id)
    elif keyword.action == "start":
        mark_opted_in(guardian)
    # The provider has already answered its own keywords on SMS (and would refuse our reply).
    if not (channel == "sms" and keyword.twilio_default and current_app.extensions["channel"].handles_sms_keywords):
        queue_catalogue_message(session, guardian, conversation_for(session, guardian), school,
                                REPLY_KEYS[keyword.action], {"school": school.name},
                                language=_reply_language(keyword, guardian, script), urgent=True)
    if keyword.action == "help":
        flow_runs.repeat_question(session, guardian, school)  # then carry on where they were


def _reply_language(keyword: KeywordMatch, guardian: Guardian, script: str | None) -> str | None:
    # A keyword in a language of its own ("BAJA") is answered in that language; a global one
    # ("STOP"), or one the guardian's known language shares, in the language we know them by.
    # "BAND KARO" typed in English letters is answered in Roman Urdu, not Urdu script.
    own = [base_language(language) for language in keyword.languages if language != "en"]
    if not own:
        return None
    language = guardian.preferred_language if guardian.preferred_language in own else base_language(
        keyword.language or own[0])
    return catalogue_language(language, script)
