"""personal api tokens

Each row is one named token of a user for the JSON API: its scope, its first characters
(shown in lists), the sha256 of the whole token (the token itself is never stored), when and
from where it was last used, and when it was revoked.

Revision ID: bfb2ec907a60
Revises: d5e8f1a2b3c4
Create Date: 2026-12-03 14:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'bfb2ec907a60'
down_revision = 'd5e8f1a2b3c4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('scope', sa.Enum('read', 'write', name='token_scope', native_enum=False, create_constraint=True, length=32), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.Column('last_used_ip', sa.String(length=45), nullable=True),
        sa.Column('revoked_at', requests_queue.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_api_tokens_user', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_api_tokens_user')
    op.drop_table('api_tokens')
