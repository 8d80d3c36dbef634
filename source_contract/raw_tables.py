"""The source contract: the raw tables the pipeline reads, as an operator's warehouse receives them.

One definition for every reader: the synthetic generator writes exactly these tables into the ``raw`` schema
(synthetic_telco/writer.py), the raw contract checks and guards validate them (asset_checks/), the raw source
assets declare them (trust_assets/assets/raw_sources.py), and the dbt sources
(``dbt_project/models/staging/_sources.yml``) declare the same tables and columns, which
``tests/dbt/test_dbt_project_files.py`` keeps in step. Real users bring their own tables with these names, columns
and types (docs/source_contract.md, generated from this module).

Every table carries ``loaded_at`` (the time the row landed in the warehouse), used for source freshness.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawColumn:
    name: str
    type: str  # DuckDB type; the BigQuery equivalent is documented in docs/source_contract.md
    description: str
    nullable: bool = False


@dataclass(frozen=True)
class RawTable:
    name: str
    description: str
    grain: tuple[str, ...]
    columns: tuple[RawColumn, ...]
    # BigQuery layout: the DATE or TIMESTAMP column the table is partitioned by day on, and the clustering
    # columns. The event tables are partitioned on the event's own date: the daily models put constant bounds on
    # it (dbt macro raw_partition_bound), so a daily run reads only its window's days. The slowly changing tables
    # (customers, subscriptions, contract events) are partitioned on the day each row landed (LOAD_PARTITION):
    # the models read every load of them (the latest per key), and the raw-contract gate re-checks only the
    # loads that landed since it validated the others (asset_checks/raw_loads.py).
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def read_whole(self) -> bool:
        """Partitioned by load day: every daily run reads all of it, so no window bounds its partitions."""
        return self.partition_by == LOAD_PARTITION


# The partition column of the tables partitioned by the day their rows landed.
LOAD_PARTITION = "loaded_at"


C = RawColumn
LOADED_AT = C("loaded_at", "TIMESTAMP", "When the row landed in the warehouse (UTC)")

# A bill is due at most this many days after it is issued (the gate rejects a later due date), and payments clear
# against issued bills. So every payment a late-payment count can use (bills due in the 180 days ending on D) cleared
# in the 180 + MAX_DAYS_BILL_TO_DUE days ending on D: the payments look-back of the daily models (dbt macro
# raw_partition_bound) and of the gate (asset_checks/raw_contract.RAW_WINDOWS).
MAX_DAYS_BILL_TO_DUE = 60

RAW_TABLES: tuple[RawTable, ...] = (
    RawTable(
        "customers",
        "One row per customer from the CRM: who they are, where they live, when they joined.",
        ("customer_id",),
        (
            C("customer_id", "VARCHAR", "CRM customer key, e.g. C0000001"),
            C("signup_date", "DATE", "Date the customer relationship started"),
            C("region", "VARCHAR", "Home region: north, south, east, west or capital"),
            C(
                "network_area",
                "VARCHAR",
                "Home network area (exchange or cell cluster) within the region, e.g. north-017; the customer is "
                "exposed to the outages of this area",
            ),
            C("birth_year", "INTEGER", "Year of birth of the account holder"),
            C("customer_type", "VARCHAR", "consumer or small_business"),
            LOADED_AT,
        ),
        partition_by=LOAD_PARTITION,
        cluster_by=("customer_id",),
    ),
    RawTable(
        "mobile_subscriptions",
        "Mobile lines from the mobile billing system, keyed by MSISDN; at most one line per customer.",
        ("msisdn",),
        (
            C("msisdn", "VARCHAR", "Mobile number in international format, e.g. 447700000001"),
            C("customer_id", "VARCHAR", "Owning customer"),
            C("plan_type", "VARCHAR", "postpaid, prepaid or sim_only"),
            C("monthly_fee", "DOUBLE", "Monthly fee at activation (price changes arrive as contract events)"),
            C("start_date", "DATE", "Activation date"),
            C("contract_end_date", "DATE", "End of the initial minimum term; NULL for prepaid", nullable=True),
            C("end_date", "DATE", "Disconnection date; NULL while active", nullable=True),
            LOADED_AT,
        ),
        partition_by=LOAD_PARTITION,
        cluster_by=("customer_id", "msisdn"),
    ),
    RawTable(
        "fixed_subscriptions",
        "TV and Broadband products from the fixed-line system (ICOMS), keyed by account and product.",
        ("icoms_account_uid", "product"),
        (
            C("icoms_account_uid", "VARCHAR", "ICOMS fixed-line account id, shared by a customer's TV and Broadband"),
            C("customer_id", "VARCHAR", "Owning customer"),
            C("product", "VARCHAR", "tv or broadband"),
            C(
                "package",
                "VARCHAR",
                "TV package (basic, entertainment, premium) or broadband tier (bb_100, bb_500, bb_1000)",
            ),
            C("provisioned_mbps", "INTEGER", "Provisioned download speed; NULL for TV", nullable=True),
            C("monthly_fee", "DOUBLE", "Monthly fee at activation (price changes arrive as contract events)"),
            C("start_date", "DATE", "Activation date"),
            C("contract_end_date", "DATE", "End of the initial minimum term"),
            C("end_date", "DATE", "Cease date; NULL while active", nullable=True),
            LOADED_AT,
        ),
        partition_by=LOAD_PARTITION,
        cluster_by=("customer_id", "icoms_account_uid"),
    ),
    RawTable(
        "mobile_usage_weekly",
        "Weekly usage aggregates per mobile line from the mediation platform.",
        ("msisdn", "week_ending"),
        (
            C("msisdn", "VARCHAR", "Mobile line"),
            C("week_ending", "DATE", "Last day (Sunday) of the usage week"),
            C("data_mb", "DOUBLE", "Mobile data used in the week, MB"),
            C("voice_minutes", "DOUBLE", "Outgoing voice minutes in the week"),
            C("calls", "INTEGER", "Outgoing calls attempted"),
            C("dropped_calls", "INTEGER", "Calls dropped by the network"),
            LOADED_AT,
        ),
        partition_by="week_ending",
        cluster_by=("msisdn",),
    ),
    RawTable(
        "tv_viewing_weekly",
        "Weekly viewing aggregates per TV account from the set-top-box platform.",
        ("icoms_account_uid", "week_ending"),
        (
            C("icoms_account_uid", "VARCHAR", "Fixed-line account"),
            C("week_ending", "DATE", "Last day (Sunday) of the viewing week"),
            C("viewing_minutes", "DOUBLE", "Minutes viewed in the week"),
            C("active_days", "INTEGER", "Days in the week with any viewing (0-7)"),
            C("buffering_events", "INTEGER", "Playback interruptions caused by buffering"),
            LOADED_AT,
        ),
        partition_by="week_ending",
        cluster_by=("icoms_account_uid",),
    ),
    RawTable(
        "broadband_usage_weekly",
        "Weekly traffic and line-speed aggregates per broadband account from the network probes.",
        ("icoms_account_uid", "week_ending"),
        (
            C("icoms_account_uid", "VARCHAR", "Fixed-line account"),
            C("week_ending", "DATE", "Last day (Sunday) of the usage week"),
            C("download_gb", "DOUBLE", "Data downloaded in the week, GB"),
            C("upload_gb", "DOUBLE", "Data uploaded in the week, GB"),
            C("avg_delivered_mbps", "DOUBLE", "Mean delivered download speed in the week"),
            C("provisioned_mbps", "INTEGER", "Provisioned download speed in the week"),
            LOADED_AT,
        ),
        partition_by="week_ending",
        cluster_by=("icoms_account_uid",),
    ),
    RawTable(
        "bills",
        "Monthly bills per customer and product from the billing system.",
        ("bill_id",),
        (
            C("bill_id", "VARCHAR", "Bill key"),
            C("customer_id", "VARCHAR", "Billed customer"),
            C("product", "VARCHAR", "mobile, tv or broadband"),
            C("bill_date", "DATE", "Date the bill was issued (monthly)"),
            C(
                "due_date", "DATE",
                f"Payment due date: on or after bill_date, at most {MAX_DAYS_BILL_TO_DUE} days after it",
            ),
            C("amount", "DOUBLE", "Billed amount including out-of-bundle charges"),
            LOADED_AT,
        ),
        partition_by="bill_date",
        cluster_by=("customer_id", "product"),
    ),
    RawTable(
        "payments",
        "Payments received against bills.",
        ("payment_id",),
        (
            C("payment_id", "VARCHAR", "Payment key"),
            C("bill_id", "VARCHAR", "Bill paid"),
            C("customer_id", "VARCHAR", "Paying customer"),
            C(
                "paid_date", "DATE",
                "Date the payment cleared: on or after the bill's bill_date (payments clear against issued bills)",
            ),
            C("amount", "DOUBLE", "Amount paid"),
            LOADED_AT,
        ),
        partition_by="paid_date",
        cluster_by=("bill_id",),
    ),
    RawTable(
        "care_contacts",
        "Customer care contacts from the contact-centre system, with reason and complaint flag.",
        ("contact_id",),
        (
            C("contact_id", "VARCHAR", "Contact key"),
            C("customer_id", "VARCHAR", "Contacting customer"),
            C("product", "VARCHAR", "mobile, tv or broadband"),
            C("contact_ts", "TIMESTAMP", "When the contact started"),
            C("channel", "VARCHAR", "phone, chat or store"),
            C("reason", "VARCHAR", "billing, technical, cancellation, sales or other"),
            C("is_complaint", "BOOLEAN", "Logged as a formal complaint"),
            LOADED_AT,
        ),
        partition_by="contact_ts",
        cluster_by=("customer_id", "product"),
    ),
    RawTable(
        "fault_tickets",
        "Fault tickets opened for a customer's product by the service-assurance system.",
        ("ticket_id",),
        (
            C("ticket_id", "VARCHAR", "Ticket key"),
            C("customer_id", "VARCHAR", "Affected customer"),
            C("product", "VARCHAR", "mobile, tv or broadband"),
            C("opened_ts", "TIMESTAMP", "When the ticket was opened"),
            C("resolved_ts", "TIMESTAMP", "When the ticket was resolved; NULL while open", nullable=True),
            C("fault_type", "VARCHAR", "no_service, degraded, equipment or other"),
            LOADED_AT,
        ),
        partition_by="opened_ts",
        cluster_by=("customer_id", "product"),
    ),
    RawTable(
        "network_outages",
        "Network outages by network area (or whole region) and product from the network operations centre.",
        ("outage_id",),
        (
            C("outage_id", "VARCHAR", "Outage key"),
            C("region", "VARCHAR", "Affected region"),
            C(
                "network_area",
                "VARCHAR",
                "Affected network area within the region, e.g. north-017; NULL when the whole region was affected",
                nullable=True,
            ),
            C("product", "VARCHAR", "mobile, tv or broadband"),
            C("start_ts", "TIMESTAMP", "When the outage started"),
            C("duration_minutes", "DOUBLE", "Outage duration in minutes"),
            LOADED_AT,
        ),
        partition_by="start_ts",
        cluster_by=("region", "product"),
    ),
    RawTable(
        "contract_events",
        "Contract lifecycle events: terminations, recontracts and price changes.",
        ("event_id",),
        (
            C("event_id", "VARCHAR", "Event key"),
            C("customer_id", "VARCHAR", "Customer"),
            C("product", "VARCHAR", "mobile, tv or broadband"),
            C("event_type", "VARCHAR", "termination, recontract or price_change"),
            C("event_date", "DATE", "Effective date of the event"),
            C("new_contract_end_date", "DATE", "New minimum-term end (recontract only)", nullable=True),
            C(
                "new_monthly_fee",
                "DOUBLE",
                "Monthly fee from the event date (recontract and price_change)",
                nullable=True,
            ),
            LOADED_AT,
        ),
        partition_by=LOAD_PARTITION,
        cluster_by=("customer_id", "product"),
    ),
)

RAW_TABLES_BY_NAME: dict[str, RawTable] = {t.name: t for t in RAW_TABLES}

REGIONS: tuple[str, ...] = ("north", "south", "east", "west", "capital")
PRODUCTS: tuple[str, ...] = ("mobile", "tv", "broadband")
MOBILE_PLAN_TYPES: tuple[str, ...] = ("postpaid", "prepaid", "sim_only")
TV_PACKAGES: tuple[str, ...] = ("basic", "entertainment", "premium")
BROADBAND_TIERS: tuple[str, ...] = ("bb_100", "bb_500", "bb_1000")


def partition_expression(table: RawTable) -> str | None:
    """BigQuery's PARTITION BY expression: a DATE column as it is, a TIMESTAMP column by its UTC day."""
    if table.partition_by is None:
        return None
    kind = next(c.type for c in table.columns if c.name == table.partition_by)
    return table.partition_by if kind == "DATE" else f"TIMESTAMP_TRUNC({table.partition_by}, DAY)"


def create_table_sql(table: RawTable, schema: str = "raw") -> str:
    cols = ",\n  ".join(f"{c.name} {c.type}" for c in table.columns)
    return f"CREATE OR REPLACE TABLE {schema}.{table.name} (\n  {cols}\n)"
