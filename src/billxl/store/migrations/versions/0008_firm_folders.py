"""firm folders: where the firm keeps its own document templates and month-end notebooks, over billxl's

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.add_column(sa.Column(
            'templates_dir', sa.String(length=500), nullable=True,
            comment="folder of the firm's document templates, over billxl's own file by file"))
        batch.add_column(sa.Column(
            'notebooks_dir', sa.String(length=500), nullable=True,
            comment="folder of the firm's month-end notebooks, over billxl's own file by file"))


def downgrade() -> None:
    with op.batch_alter_table('firm') as batch:
        batch.drop_column('notebooks_dir')
        batch.drop_column('templates_dir')
