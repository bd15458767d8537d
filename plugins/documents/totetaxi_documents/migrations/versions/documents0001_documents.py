"""documents: documents, COI details, review decisions, COI attention

Revision ID: documents0001
Revises:
Create Date: 2026-12-03 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import totetaxi_core.db.append_only  # op.create_append_only_triggers
import totetaxi_core.db.types

revision = "documents0001"
down_revision = None
branch_labels = ("documents",)  # this plugin's own branch
depends_on = "c0009"  # the core revision whose tables it stands on


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "coi", "invoice", "receipt", "other", name="category", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending_upload",
                "uploaded",
                "approved",
                "rejected",
                "expired",
                name="documentstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("storage", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_kind", sa.String(length=20), nullable=False),
        sa.Column("uploaded_by_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purged_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("purge_reason", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_documents_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_documents_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_documents_storage_key")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_booking_id"), ["booking_id"], unique=False)
        batch_op.create_index("ix_documents_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index("ix_documents_status_category", ["status", "category"], unique=False)

    op.create_table(
        "documents_coi_attention",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_documents_coi_attention_booking_id_bookings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents_coi_attention")),
    )
    with op.batch_alter_table("documents_coi_attention", schema=None) as batch_op:
        batch_op.create_index("uq_documents_coi_attention", ["booking_id", "reason"], unique=True)

    op.create_table(
        "documents_coi",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("insurer", sa.String(length=200), nullable=False),
        sa.Column("policy_number", sa.String(length=100), nullable=False),
        sa.Column("coverage_cents", sa.BigInteger(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("building_name", sa.String(length=200), nullable=False),
        sa.Column("building_address", sa.String(length=300), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("created_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["documents.id"], name=op.f("fk_documents_coi_document_id_documents")
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_documents_coi")),
    )
    op.create_table(
        "documents_reviews",
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("at", totetaxi_core.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_documents_reviews_document_id_documents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents_reviews")),
    )
    with op.batch_alter_table("documents_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_documents_reviews_document_id"), ["document_id"], unique=False
        )

    op.create_append_only_triggers(
        "documents_reviews",
        "Review decisions are history: they are never changed or deleted.",
    )


def downgrade() -> None:
    op.drop_append_only_triggers("documents_reviews")
    with op.batch_alter_table("documents_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_reviews_document_id"))

    op.drop_table("documents_reviews")
    op.drop_table("documents_coi")
    with op.batch_alter_table("documents_coi_attention", schema=None) as batch_op:
        batch_op.drop_index("uq_documents_coi_attention")

    op.drop_table("documents_coi_attention")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_status_category")
        batch_op.drop_index(batch_op.f("ix_documents_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_documents_customer_id"))
        batch_op.drop_index("ix_documents_created_at_id")
        batch_op.drop_index(batch_op.f("ix_documents_booking_id"))

    op.drop_table("documents")
