"""Worker jobs, by the names in bot/tasks/table.py. Each takes ids, loads rows, and is safe to run twice.

Only the worker imports this module (RQ resolves "bot.jobs.<name>"); it imports the domain,
never the other way round. Jobs run inside the app context that worker.py (or a test) pushes.
"""
from __future__ import annotations

from bot.calls.placing import place
from bot.calls.staff_prompts import save_prompt_recording as _save_prompt_recording
from bot.conversation.turn import process_guardian as _process_guardian
from bot.messaging.delivery import deliver
from bot.messaging.recovery import recover_send as _recover_send
from bot.messaging.staff_translation import translate_for_staff
from bot.reviews.schedule import send_reminders
from bot.sweep import run_sweep
from bot.targets.checkins import send_checkins
from storage.db import session_scope
from storage.models import utcnow


def process_guardian(guardian_id: int) -> int:
    """Act on a guardian's stored messages in arrival order (keywords, language, flow answers)."""
    return _process_guardian(guardian_id)


def translate_message(message_id: int) -> str | None:
    """Translate a parent's message into the school's staff language and store it beside it."""
    return translate_for_staff(message_id)


def deliver_message(message_id: int) -> None:
    """Send one stored outbound message (once, whatever happens to the job)."""
    deliver(message_id)


def recover_send(message_id: int) -> str | None:
    """Settle a send a crash cut off: ask the provider, then record it or send it again (once)."""
    return _recover_send(message_id)


def place_call(call_id: int) -> str | None:
    """Ring a guardian for a planned call (once, at an allowed hour, with a voice or recordings)."""
    return place(call_id)


def save_prompt_recording(recording_id: int) -> int | None:
    """Keep a prompt a member of staff recorded by phone (fetched from the provider)."""
    return _save_prompt_recording(recording_id)


def send_reminder_batch(reminder_ids: list[int]) -> int:
    """Send a batch of due reminders (the sweep splits them so every worker can take a share)."""
    with session_scope() as session:
        return len(send_reminders(session, reminder_ids, utcnow()))


def send_checkin_batch(checkin_ids: list[int]) -> int:
    """Start a batch of due check-ins (each at most once, whichever worker gets it)."""
    with session_scope() as session:
        return len(send_checkins(session, checkin_ids, utcnow()))


def sweep() -> dict[str, int] | None:
    """Hand back to the worker whatever the database says is still pending."""
    return run_sweep()
