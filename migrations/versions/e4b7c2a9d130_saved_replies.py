"""saved replies

Shared (no owner) and personal reply texts with placeholders, offered on the review page's
ask and reject forms (issue 15).

Revision ID: e4b7c2a9d130
Revises: 87244c5c068a
Create Date: 2026-12-03 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import requests_queue.models.base


# revision identifiers, used by Alembic.
revision = 'e4b7c2a9d130'
down_revision = '87244c5c068a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column(
            'purpose',
            sa.Enum('question', 'rejection', name='reply_purpose', native_enum=False,
                    create_constraint=True, length=32),
            nullable=False,
        ),
        sa.Column('title', sa.String(length=80), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', requests_queue.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_replies_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_replies')),
    )
    with op.batch_alter_table('saved_replies', schema=None) as batch_op:
        batch_op.create_index('ix_saved_replies_owner', ['owner_id', 'purpose', 'title'], unique=False)


def downgrade():
    with op.batch_alter_table('saved_replies', schema=None) as batch_op:
        batch_op.drop_index('ix_saved_replies_owner')
    op.drop_table('saved_replies')
