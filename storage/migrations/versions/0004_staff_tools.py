"""staff tools: roles and one-time set-password links, families kept by staff, assignment, retention, trusts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'trust',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    # Batch mode: SQLite (the default database) can add a foreign key only by rebuilding the table.
    with op.batch_alter_table('school') as batch:
        batch.add_column(sa.Column('trust_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('whatsapp_templates', sa.JSON(), nullable=True))
        batch.create_index(batch.f('ix_school_trust_id'), ['trust_id'], unique=False)
        batch.create_foreign_key('fk_school_trust_id_trust', 'trust', ['trust_id'], ['id'])
    # Existing staff were all SENDCos (the only kind there was).
    op.add_column('staffuser', sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                         server_default='sendco'))
    op.add_column('staffuser', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('staffuser', sa.Column('password_token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.add_column('staffuser', sa.Column('password_token_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(),
                                         nullable=True))
    op.create_index(op.f('ix_staffuser_password_token_hash'), 'staffuser', ['password_token_hash'], unique=False)
    op.add_column('guardian', sa.Column('consent', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column('guardian', sa.Column('do_not_contact', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('guardian', sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('child', sa.Column('archived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('message', sa.Column('purged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('conversation') as batch:
        batch.add_column(sa.Column('assigned_to_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_conversation_assigned_to_id_staffuser', 'staffuser', ['assigned_to_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('conversation') as batch:
        batch.drop_constraint('fk_conversation_assigned_to_id_staffuser', type_='foreignkey')
        batch.drop_column('assigned_to_id')
    op.drop_column('message', 'purged_at')
    op.drop_column('child', 'archived_at')
    op.drop_column('guardian', 'archived_at')
    op.drop_column('guardian', 'do_not_contact')
    op.drop_column('guardian', 'consent')
    op.drop_index(op.f('ix_staffuser_password_token_hash'), table_name='staffuser')
    op.drop_column('staffuser', 'password_token_expires_at')
    op.drop_column('staffuser', 'password_token_hash')
    op.drop_column('staffuser', 'active')
    op.drop_column('staffuser', 'role')
    with op.batch_alter_table('school') as batch:
        batch.drop_constraint('fk_school_trust_id_trust', type_='foreignkey')
        batch.drop_index(batch.f('ix_school_trust_id'))
        batch.drop_column('whatsapp_templates')
        batch.drop_column('retention_days')
        batch.drop_column('trust_id')
    op.drop_table('trust')
