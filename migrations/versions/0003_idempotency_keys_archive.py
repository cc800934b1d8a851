"""idempotency_keys (operator actions safe to repeat), streams.archived_ms and streams.answered

`idempotency_keys` holds each `Idempotency-Key` an operator request sent (contract section 5): the
row is inserted before the action runs, so a second request with the same key, on any instance,
finds it and waits for the stored answer instead of acting again. `streams.archived_ms` hides a
stream (a rehearsal, a test) from the lists and the cross-stream comparison without deleting it;
`streams.answered` remembers the viewer questions the host has answered ({question key: ms}).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 06:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'idempotency_keys',
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=500), nullable=False),
        sa.Column('claimed_ms', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.Integer(), nullable=True),
        sa.Column('content_type', sa.String(length=100), nullable=True),
        sa.Column('body', sa.Text(), nullable=True),
        sa.Column('answered_ms', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotency_keys')),
    )
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_ms', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('answered', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('streams', schema=None) as batch_op:
        batch_op.drop_column('answered')
        batch_op.drop_column('archived_ms')
    op.drop_table('idempotency_keys')
