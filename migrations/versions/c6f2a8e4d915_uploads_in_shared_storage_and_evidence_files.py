"""uploads in shared storage and evidence files

Uploaded files live where every host reaches them (issue 11, section 2): `blobs` with their
bytes in `blob_chunks` (or a file in a shared directory), import uploads waiting for their
mapping in `pending_uploads`, and a batch names its file by blob instead of a local path.
Customers' evidence files (issue 14, item 6) are `request_attachments`.

Upgrade: an unfinished batch whose file is on the disk of the host running the upgrade has it
copied into the database, so its run can resume anywhere; one whose file is not there fails
when next resumed ("the uploaded file is no longer there"), as before. Downgrade: files kept
in the database are dropped with their tables; an unfinished import then fails the same way.

Revision ID: c6f2a8e4d915
Revises: a7e3c5d9f214
Create Date: 2026-12-03 21:00:00.000000

"""
import hashlib
from pathlib import Path

from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'c6f2a8e4d915'
down_revision = 'a7e3c5d9f214'
branch_labels = None
depends_on = None

CHUNK_BYTES = 1 << 20


def upgrade():
    op.create_table(
        'blobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('path', sa.String(length=1000), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_blobs_account_id_accounts')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blobs')),
    )
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blobs_account_id'), ['account_id'], unique=False)
    op.create_table(
        'blob_chunks',
        sa.Column('blob_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_blob_chunks_blob_id_blobs'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('blob_id', 'seq', name=op.f('pk_blob_chunks')),
    )
    op.create_table(
        'pending_uploads',
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('blob_id', sa.Integer(), nullable=False),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_pending_uploads_account_id_accounts')),
        sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_pending_uploads_blob_id_blobs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pending_uploads_user_id_users')),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_pending_uploads')),
    )
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_uploads_created_at'), ['created_at'], unique=False)
    op.create_table(
        'request_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('blob_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_request_attachments_blob_id_blobs')),
        sa.ForeignKeyConstraint(['event_id'], ['request_events.id'], name=op.f('fk_request_attachments_event_id_request_events')),
        sa.ForeignKeyConstraint(['request_id'], ['consent_requests.id'], name=op.f('fk_request_attachments_request_id_consent_requests')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_request_attachments_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_request_attachments')),
    )
    with op.batch_alter_table('request_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_request_attachments_request', ['request_id', 'id'], unique=False)

    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_blob_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_import_batches_file_blob_id_blobs'), 'blobs', ['file_blob_id'], ['id'], ondelete='SET NULL')
    _copy_waiting_files_in()
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('file_path')


def _copy_waiting_files_in():
    """Unfinished batches whose file this host has: the file goes into the database."""
    conn = op.get_bind()
    waiting = conn.execute(sa.text(
        "SELECT id, account_id, file_path, created_at FROM import_batches "
        "WHERE state IN ('queued', 'running') AND file_path <> ''"
    )).all()
    for batch_id, account_id, file_path, created_at in waiting:
        path = Path(file_path)
        if not path.is_file():
            continue
        blob_id = conn.execute(
            sa.text(
                "INSERT INTO blobs (account_id, size, sha256, path, created_at) "
                "VALUES (:a, 0, '', '', :t) RETURNING id"
            ),
            {"a": account_id, "t": created_at},
        ).scalar_one()
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as f:
            seq = 0
            while piece := f.read(CHUNK_BYTES):
                digest.update(piece)
                size += len(piece)
                conn.execute(
                    sa.text("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (:b, :s, :d)"),
                    {"b": blob_id, "s": seq, "d": piece},
                )
                seq += 1
        conn.execute(
            sa.text("UPDATE blobs SET size = :n, sha256 = :h WHERE id = :b"),
            {"n": size, "h": digest.hexdigest(), "b": blob_id},
        )
        conn.execute(
            sa.text("UPDATE import_batches SET file_blob_id = :b WHERE id = :i"),
            {"b": blob_id, "i": batch_id},
        )


def downgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_path', sa.String(length=500), server_default='', nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_import_batches_file_blob_id_blobs'), type_='foreignkey')
        batch_op.drop_column('file_blob_id')
    with op.batch_alter_table('request_attachments', schema=None) as batch_op:
        batch_op.drop_index('ix_request_attachments_request')
    op.drop_table('request_attachments')
    with op.batch_alter_table('pending_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_uploads_created_at'))
    op.drop_table('pending_uploads')
    op.drop_table('blob_chunks')
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blobs_account_id'))
    op.drop_table('blobs')
