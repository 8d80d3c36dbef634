"""The model operating loop: registry transitions, audit trail, retraining, shadow scoring, readiness gate,
approval, promotion and rollback (docs/architecture.md §4). Plain functions over the warehouse; the Dagster jobs and the
``trust models`` commands are thin wrappers around them."""
