"""Staff stepping into a conversation: their reply pauses any question flow (handing back is
`flow_runs.resume_flow`)."""
from __future__ import annotations

from sqlmodel import Session

from bot.conversation import checkin_answers, flow_runs
from bot.messaging.outbound import parent_language, queue_message, render_staff_reply
from bot.messaging.rendering import Rendering
from storage.models import Conversation, Guardian, Message, School


def queue_staff_reply(session: Session, guardian: Guardian, conversation: Conversation, school: School,
                      staff_author_id: int | None, english: str, urgent: bool = False,
                      rendering: Rendering | None = None, send_key: str | None = None) -> Message:
    """Store a staff reply as rendered for the parent, to be sent once the transaction commits.

    The inbox passes the rendering staff approved in the preview, so exactly that is sent; without
    one it is rendered now; `send_key` is the send form's one-time key (unique: the same form
    posted twice cannot store a second message). A member of staff writing in pauses any
    question flow: the conversation is theirs now.
    """
    rendering = rendering or render_staff_reply(english, guardian, school)
    flow_runs.pause_for_staff(session, guardian.id)
    checkin_answers.clear_flags(session, conversation.id)  # replying is what the flag asked for
    return queue_message(session, guardian, conversation, body=english, rendering=rendering, kind="staff_reply",
                         language=parent_language(guardian, school), staff_author_id=staff_author_id,
                         urgent=urgent, send_key=send_key)

