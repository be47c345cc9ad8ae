"""when a guardian last opted in; a one-time key on staff sends; simulated messages; revocable staff sessions; delivery notes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A provider's opt-out report about a message sent before the parent's START is ignored.
    op.add_column('guardian', sa.Column('opted_in_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # The send form's one-time key: a resubmitted form stores (and sends) nothing more.
    op.add_column('message', sa.Column('send_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_index('ix_message_send_key', 'message', ['send_key'], unique=True)
    # Messages that went through the parent simulator, never a real phone: labelled wherever shown.
    # Signing out (or a new password) moves it on: every session signed with the old one ends.
    op.add_column('staffuser', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    # What happened on the way (an interrupted send, found at Twilio or sent again): kept for staff.
    op.add_column('message', sa.Column('delivery_note', sa.Text(), nullable=True))
    op.add_column('message', sa.Column('simulated', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column('message', 'simulated')
    op.drop_column('message', 'delivery_note')
    op.drop_column('staffuser', 'session_version')
    op.drop_index('ix_message_send_key', table_name='message')
    op.drop_column('message', 'send_key')
    op.drop_column('guardian', 'opted_in_at')
