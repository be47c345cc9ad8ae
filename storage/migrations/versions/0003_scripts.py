"""the script a guardian reads and writes (Roman Urdu, Banglish...), the script of each message, why a translation is missing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ISO 15924 code ("Latn" for a parent who writes Urdu in English letters); empty = the
    # language's usual script. Learned from how the parent writes, editable by staff.
    op.add_column('guardian', sa.Column('preferred_script', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # Who set it: "learned" from messages, or "staff" (a staff choice is never overwritten).
    op.add_column('guardian', sa.Column('script_source', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # The script a message was written (inbound) or rendered (outbound) in.
    op.add_column('message', sa.Column('script', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    # Why a message has no machine translation, as a kind the inbox words for staff (once per page):
    # no_engine | turned_off | romanised | unrecognised | mangled | other.
    op.add_column('message', sa.Column('translation_gap', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    op.drop_column('message', 'translation_gap')
    op.drop_column('message', 'script')
    op.drop_column('guardian', 'script_source')
    op.drop_column('guardian', 'preferred_script')
