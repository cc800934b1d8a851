"""events: no foreign key to streams, a partial index instead of (stream_id, ts_ms)

Every index and constraint on `events` is paid for by every ingested event. The foreign key cost
PostgreSQL a trigger and a row lock per event (about a quarter of its ingest time) and the
(stream_id, ts_ms) index another eighth, while only the rare order, viewer_count and segment
events are ever looked up by time.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 06:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

LOOKED_UP_BY_TS = "type IN ('order', 'viewer_count', 'segment')"


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_constraint('fk_events_stream_id_streams', type_='foreignkey')
        batch_op.drop_index('ix_events_stream_ts')
        batch_op.create_index(
            'ix_events_stream_type_ts', ['stream_id', 'type', 'ts_ms'], unique=False,
            postgresql_where=sa.text(LOOKED_UP_BY_TS), sqlite_where=sa.text(LOOKED_UP_BY_TS),
        )


def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_stream_type_ts')
        batch_op.create_index('ix_events_stream_ts', ['stream_id', 'ts_ms'], unique=False)
        batch_op.create_foreign_key(
            'fk_events_stream_id_streams', 'streams', ['stream_id'], ['id'], ondelete='CASCADE'
        )
