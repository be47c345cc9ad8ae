"""voice calls: the call table, staff-recorded prompts, parents' recordings, and each message's call

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voiceprompt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audio', sa.LargeBinary(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['staffuser.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id', 'key', 'language')
    )
    op.create_index(op.f('ix_voiceprompt_school_id'), 'voiceprompt', ['school_id'], unique=False)
    op.create_table('call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('prompt_key', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('flow_run_id', sa.Integer(), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('answered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('provider_sid', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status_note', sa.Text(), nullable=True),
    sa.Column('simulated', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['flow_run_id'], ['flowrun.id'], ),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staffuser.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_sid')
    )
    op.create_index(op.f('ix_call_guardian_id'), 'call', ['guardian_id'], unique=False)
    op.create_index(op.f('ix_call_next_attempt_at'), 'call', ['next_attempt_at'], unique=False)
    op.create_index(op.f('ix_call_school_id'), 'call', ['school_id'], unique=False)
    op.create_index(op.f('ix_call_status'), 'call', ['status'], unique=False)
    op.create_table('voicerecording',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('provider_sid', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('audio', sa.LargeBinary(), nullable=True),
    sa.Column('transcript', sa.Text(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['call.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('provider_sid')
    )
    op.create_index(op.f('ix_voicerecording_call_id'), 'voicerecording', ['call_id'], unique=False)
    op.create_index(op.f('ix_voicerecording_message_id'), 'voicerecording', ['message_id'], unique=False)
    op.create_index(op.f('ix_voicerecording_school_id'), 'voicerecording', ['school_id'], unique=False)
    # Batch mode: SQLite (the default database) cannot add a foreign key to an existing table.
    with op.batch_alter_table('message') as batch:
        batch.add_column(sa.Column('call_id', sa.Integer(), nullable=True))
        batch.create_index(batch.f('ix_message_call_id'), ['call_id'], unique=False)
        batch.create_foreign_key('fk_message_call_id_call', 'call', ['call_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('message') as batch:
        batch.drop_constraint('fk_message_call_id_call', type_='foreignkey')
        batch.drop_index(batch.f('ix_message_call_id'))
        batch.drop_column('call_id')
    op.drop_index(op.f('ix_voicerecording_school_id'), table_name='voicerecording')
    op.drop_index(op.f('ix_voicerecording_message_id'), table_name='voicerecording')
    op.drop_index(op.f('ix_voicerecording_call_id'), table_name='voicerecording')
    op.drop_table('voicerecording')
    op.drop_index(op.f('ix_call_status'), table_name='call')
    op.drop_index(op.f('ix_call_school_id'), table_name='call')
    op.drop_index(op.f('ix_call_next_attempt_at'), table_name='call')
    op.drop_index(op.f('ix_call_guardian_id'), table_name='call')
    op.drop_table('call')
    op.drop_index(op.f('ix_voiceprompt_school_id'), table_name='voiceprompt')
    op.drop_table('voiceprompt')
