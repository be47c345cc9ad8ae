"""targets (with history and what each carer was sent), check-ins and answers, rhythm, holidays, flags

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkinrhythm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('school_id')
    )
    op.create_table('schoolholiday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('last_day', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_schoolholiday_school_id'), 'schoolholiday', ['school_id'], unique=False)
    op.create_table('childcheckinsetting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('every_weeks', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('child_id')
    )
    op.create_index(op.f('ix_childcheckinsetting_school_id'), 'childcheckinsetting', ['school_id'], unique=False)
    op.create_table('target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('help_at_home', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('school_notes', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_target_child_id'), 'target', ['child_id'], unique=False)
    op.create_index(op.f('ix_target_school_id'), 'target', ['school_id'], unique=False)
    op.create_table('targetrevision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('help_at_home', sa.Text(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('school_notes', sa.Text(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staffuser.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_targetrevision_target_id'), 'targetrevision', ['target_id'], unique=False)
    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('target_ids', sa.JSON(), nullable=True),
    sa.Column('flow_run_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['flow_run_id'], ['flowrun.id'], ),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_checkin_child_id'), 'checkin', ['child_id'], unique=False)
    op.create_index(op.f('ix_checkin_due_at'), 'checkin', ['due_at'], unique=False)
    op.create_index(op.f('ix_checkin_flow_run_id'), 'checkin', ['flow_run_id'], unique=False)
    op.create_index(op.f('ix_checkin_guardian_id'), 'checkin', ['guardian_id'], unique=False)
    op.create_index(op.f('ix_checkin_school_id'), 'checkin', ['school_id'], unique=False)
    op.create_index(op.f('ix_checkin_status'), 'checkin', ['status'], unique=False)
    op.create_table('conversationflag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cleared_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_conversationflag_cleared_at'), 'conversationflag', ['cleared_at'], unique=False)
    op.create_index(op.f('ix_conversationflag_conversation_id'), 'conversationflag', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_conversationflag_school_id'), 'conversationflag', ['school_id'], unique=False)
    op.create_table('targetshare',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('engine', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staffuser.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_targetshare_created_at'), 'targetshare', ['created_at'], unique=False)
    op.create_index(op.f('ix_targetshare_guardian_id'), 'targetshare', ['guardian_id'], unique=False)
    op.create_index(op.f('ix_targetshare_school_id'), 'targetshare', ['school_id'], unique=False)
    op.create_index(op.f('ix_targetshare_target_id'), 'targetshare', ['target_id'], unique=False)
    op.create_table('checkinanswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('guardian_id', sa.Integer(), nullable=False),
    sa.Column('check_in_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('trend', sa.Integer(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['check_in_id'], ['checkin.id'], ),
    sa.ForeignKeyConstraint(['child_id'], ['child.id'], ),
    sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], ),
    sa.ForeignKeyConstraint(['school_id'], ['school.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['target.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_checkinanswer_check_in_id'), 'checkinanswer', ['check_in_id'], unique=False)
    op.create_index(op.f('ix_checkinanswer_child_id'), 'checkinanswer', ['child_id'], unique=False)
    op.create_index(op.f('ix_checkinanswer_created_at'), 'checkinanswer', ['created_at'], unique=False)
    op.create_index(op.f('ix_checkinanswer_guardian_id'), 'checkinanswer', ['guardian_id'], unique=False)
    op.create_index(op.f('ix_checkinanswer_school_id'), 'checkinanswer', ['school_id'], unique=False)
    op.create_index(op.f('ix_checkinanswer_target_id'), 'checkinanswer', ['target_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_checkinanswer_target_id'), table_name='checkinanswer')
    op.drop_index(op.f('ix_checkinanswer_school_id'), table_name='checkinanswer')
    op.drop_index(op.f('ix_checkinanswer_guardian_id'), table_name='checkinanswer')
    op.drop_index(op.f('ix_checkinanswer_created_at'), table_name='checkinanswer')
    op.drop_index(op.f('ix_checkinanswer_child_id'), table_name='checkinanswer')
    op.drop_index(op.f('ix_checkinanswer_check_in_id'), table_name='checkinanswer')
    op.drop_table('checkinanswer')
    op.drop_index(op.f('ix_targetshare_target_id'), table_name='targetshare')
    op.drop_index(op.f('ix_targetshare_school_id'), table_name='targetshare')
    op.drop_index(op.f('ix_targetshare_guardian_id'), table_name='targetshare')
    op.drop_index(op.f('ix_targetshare_created_at'), table_name='targetshare')
    op.drop_table('targetshare')
    op.drop_index(op.f('ix_conversationflag_school_id'), table_name='conversationflag')
    op.drop_index(op.f('ix_conversationflag_conversation_id'), table_name='conversationflag')
    op.drop_index(op.f('ix_conversationflag_cleared_at'), table_name='conversationflag')
    op.drop_table('conversationflag')
    op.drop_index(op.f('ix_checkin_status'), table_name='checkin')
    op.drop_index(op.f('ix_checkin_school_id'), table_name='checkin')
    op.drop_index(op.f('ix_checkin_guardian_id'), table_name='checkin')
    op.drop_index(op.f('ix_checkin_flow_run_id'), table_name='checkin')
    op.drop_index(op.f('ix_checkin_due_at'), table_name='checkin')
    op.drop_index(op.f('ix_checkin_child_id'), table_name='checkin')
    op.drop_table('checkin')
    op.drop_index(op.f('ix_targetrevision_target_id'), table_name='targetrevision')
    op.drop_table('targetrevision')
    op.drop_index(op.f('ix_target_school_id'), table_name='target')
    op.drop_index(op.f('ix_target_child_id'), table_name='target')
    op.drop_table('target')
    op.drop_index(op.f('ix_childcheckinsetting_school_id'), table_name='childcheckinsetting')
    op.drop_table('childcheckinsetting')
    op.drop_index(op.f('ix_schoolholiday_school_id'), table_name='schoolholiday')
    op.drop_table('schoolholiday')
    op.drop_table('checkinrhythm')
