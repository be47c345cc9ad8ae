"""Query helpers. Each takes the session and never commits: the view or job owns the transaction."""
from __future__ import annotations

from typing import Callable, NamedTuple, TypeVar

from sqlalchemy import and_, bindparam, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from storage.models import Conversation, Guardian, Message, School, SchoolNumber, utcnow

T = TypeVar("T")


class InboundRoute(NamedTuple):
    """Where a message sent to `recipient` from `sender` belongs; guardian and conversation None if new."""

    school_id: int
    default_region: str
    guardian_id: int | None
    conversation_id: int | None


# Built once: it runs for every inbound message.
_INBOUND_ROUTE = (
    select(School.id, School.default_region, Guardian.id, Conversation.id)
    .join(SchoolNumber, SchoolNumber.school_id == School.id)
    .outerjoin(Guardian, and_(Guardian.school_id == School.id, Guardian.phone == bindparam("sender")))
    .outerjoin(Conversation, Conversation.guardian_id == Guardian.id)
    .where(SchoolNumber.phone == bindparam("recipient")).limit(1)
)


def inbound_route(session: Session, recipient: str, sender: str | None) -> InboundRoute | None:
    """The school owning `recipient` and, in one query, the guardian and conversation of `sender`."""
    row = session.connection().execute(_INBOUND_ROUTE, {"recipient": recipient, "sender": sender}).first()
    return InboundRoute(*row) if row else None


def school_sender(session: Session, school_id: int, channel: str) -> str | None:
    """The school's number to send from on `channel` (a WhatsApp sender for WhatsApp)."""
    query = select(SchoolNumber).where(SchoolNumber.school_id == school_id).order_by(SchoolNumber.id)
    if channel == "whatsapp":
        query = query.where(SchoolNumber.whatsapp == True)  # noqa: E712 (SQL expression)
    number = session.exec(query).first()
    return number.phone if number else None


def _get_or_insert(session: Session, find: Callable[[], T | None], make: Callable[[], T]) -> T:
    """Return the row `find` sees, inserting `make()` if none; safe when two requests race.

    The insert runs in a savepoint: if a concurrent request inserted the same unique row
    first, the savepoint rolls back and the other request's row is returned.
    """
    row = find()
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = make()
            session.add(row)
        return row
    except IntegrityError:
        row = find()
        if row is None:
            raise
        return row


def find_or_create_guardian(session: Session, school_id: int, phone: str) -> Guardian:
    """The guardian with this number at this school, or a new unknown contact."""
    return _get_or_insert(
        session,
        lambda: session.exec(
            select(Guardian).where(Guardian.school_id == school_id, Guardian.phone == phone)
        ).first(),
        lambda: Guardian(school_id=school_id, phone=phone, known=False),
    )


def conversation_for(session: Session, guardian: Guardian) -> Conversation:
    """The guardian's conversation with the school, created on first use."""
    return _get_or_insert(
        session,
        lambda: session.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).first(),
        lambda: Conversation(school_id=guardian.school_id, guardian_id=guardian.id),
    )


_MESSAGE_COLUMNS = [column for column in Message.__table__.columns if column.name != "id"]
# Built once per dialect: the webhook inserts a message per request, and building an insert of
# thirty columns costs more than running it.
_INSERT_ONCE = {
    name: (insert(Message.__table__).values({column.name: bindparam(column.name) for column in _MESSAGE_COLUMNS})
           .on_conflict_do_nothing(index_elements=["provider_sid"]).returning(Message.__table__.c.id))
    for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
}


def insert_message_once(session: Session, message: Message) -> int | None:
    """Insert a message unless one with the same provider sid exists; its new id, or None.

    One INSERT ... ON CONFLICT DO NOTHING: a Twilio retry (even five at once) costs one
    round trip and stores nothing.
    """
    values = {column.name: getattr(message, column.name) for column in _MESSAGE_COLUMNS}
    return session.connection().execute(_INSERT_ONCE[session.get_bind().dialect.name], values).scalar()


def message_by_sid(session: Session, provider_sid: str) -> Message | None:
    """The message the provider knows by this id."""
    return session.exec(select(Message).where(Message.provider_sid == provider_sid)).first()


def claim_message(session: Session, message_id: int, from_status: str, to_status: str) -> bool:
    """Move a message from one status to another atomically; False if someone else did first.

    This compare-and-set is what makes a job that runs twice send once.
    """
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == from_status)
        .values(status=to_status, status_updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def interrupted_send(session: Session, message_id: int | None, provider_sid: str) -> Message | None:
    """A message whose send was cut off before its sid was stored, now identified by Twilio's callback.

    The status callback URL carries our message id (`?m=`); a row still without a sid takes
    the sid Twilio reports, so the sweep never sends it a second time.
    """
    if message_id is None:
        return None
    message = session.get(Message, message_id)
    if message is None or message.provider_sid is not None or message.direction != "outbound":
        return None
    message.provider_sid = provider_sid
    return message
