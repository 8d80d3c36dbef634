"""Hand-written DuckDB SQL of the baseline's features: customer_360 and the three cohorts' feature rows of one
snapshot day, computed straight from the raw tables (schema ``raw``, docs/source_contract.md).

Five statements on one connection, each a temporary table:

1. ``baseline_customer_360_definition``: who holds what on the day (subscriptions live on the day, their terms
   from the contract events up to the day, the CRM row), every column of ``customer_360_definition``;
2. ``baseline_product_events``: per held (customer, product), the families every cohort shares, aggregated
   once for all products: outage minutes of the region or network area, fault tickets, care contacts, the billing
   counts and sums (late payments, bill shocks, billed amounts of the last and prior three months);
3. one statement per cohort (``baseline_<cohort>_features``): its usage weeks, the shared families, tenure
   and contract end, with the columns, names and types of ``<cohort>_features``.

The definitions are those of the dbt models (dbt_project/models, macros/features.sql): the latest load per
grain key, windows ending on the day, 0 for counts and sums without events, NULL for a ratio or trend
without a denominator, and measures rounded to DECIMAL(18, 6) before they are summed or averaged so the
sums are exact and equal the product's bit for bit. What differs is the execution: each raw table is read
once for the day with its date window applied while scanning, and the latest-load rule is checked only for
the keys that pass the window (a key-only look-up of newer loads; see :func:`latest_loads`), instead of
deduplicating every table's whole history inside every model that reads it as the staging views do.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from trust_assets.config import COHORTS, Cohort

PREFIX = "baseline_"
CUSTOMER_360_TABLE = f"{PREFIX}customer_360_definition"
PRODUCT_EVENTS_TABLE = f"{PREFIX}product_events"
EXACT = "decimal(18, 6)"  # the product's exact_measure type


# --- small SQL helpers ----------------------------------------------------------------------------------------
def _lit(day: date) -> str:
    return f"date '{day.isoformat()}'"


def _months_before(day: date, months: int) -> str:
    # The product's month arithmetic (clamped to the month end); a constant DuckDB folds before scanning.
    return f"cast(date_add({_lit(day)}, interval ({-months}) month) as date)"


def _trailing(column: str, day: date, days: int) -> str:
    """``column`` in the ``days`` days ending on ``day``: (day - days, day]."""
    return f"({column} > {_lit(day - timedelta(days=days))} and {column} <= {_lit(day)})"


def _exact(expr: str) -> str:
    return f"cast({expr} as {EXACT})"


def _months_between(start: str, end: str) -> str:
    return f"round(cast(date_diff('day', {start}, {end}) as double) / 30.4375, 2)"


def latest_loads(table: str, grain: Sequence[str], where: str, how: str = "verify") -> str:
    """The rows of ``raw.<table>`` that pass ``where`` and are the latest load of their grain key.

    A re-delivered row may change any non-key column (a corrected date moves it in or out of the window), so
    the filter may not simply run before the deduplication. ``how`` picks the cheapest exact plan:

    - ``verify``: filter while scanning, then keep a candidate only when no load of its key is newer, a
      look-up restricted to the candidates' keys (DuckDB joins the distinct candidate keys into the
      subquery); for windows that keep a small part of the table;
    - ``grain``: ``where`` tests grain columns only (a usage week), so every load of a key passes or fails
      together and the newest candidate is the latest load;
    - ``dedup``: deduplicate the whole table, then filter; for windows that keep most of it (bills up to
      the day), where the look-up would cost more than it saves.
    """
    keys = ", ".join(grain)
    latest = f"row_number() over (partition by {keys} order by r.loaded_at desc) = 1"
    if how == "dedup":
        return f"""(
        select * from (select * from raw.{table} as r qualify {latest}) as r
        where {where}
    )"""
    newest = ""
    if how == "verify":
        same_key = " and ".join(f"n.{k} = r.{k}" for k in grain)
        newest = f"\n          and r.loaded_at = (select max(n.loaded_at) from raw.{table} as n where {same_key})"
    elif how != "grain":
        raise ValueError(f"unknown plan {how!r}")
    return f"""(
        select * from raw.{table} as r
        where ({where}){newest}
        qualify {latest}
    )"""


# --- 1. customer_360 ------------------------------------------------------------------------------------------
def customer_360_sql(day: date) -> str:
    """customer_360_definition for ``day``: subscriptions live on the day (started on or before it, not ended
    by it), with the contract end and fee of the latest recontract / fee-setting event on or before the day
    (events attach to the same customer's live subscription of the product), one per customer and product
    (the most recent activation), pivoted per customer and joined to the CRM row."""
    d = _lit(day)
    live = f"start_date <= {d} and (end_date is null or end_date > {d})"
    return f"""
with subscriptions as (
    select
        cast(msisdn as varchar) as subscription_id, cast(customer_id as varchar) as customer_id,
        'mobile' as product, cast(msisdn as varchar) as account_id, lower(trim(plan_type)) as package,
        cast(null as bigint) as provisioned_mbps, cast(monthly_fee as double) as initial_monthly_fee,
        cast(start_date as date) as start_date, cast(contract_end_date as date) as initial_contract_end_date
    from {latest_loads("mobile_subscriptions", ["msisdn"], live)}
    union all
    select
        cast(icoms_account_uid as varchar) || ':' || lower(trim(product)), cast(customer_id as varchar),
        lower(trim(product)), cast(icoms_account_uid as varchar), lower(trim(package)),
        cast(provisioned_mbps as bigint), cast(monthly_fee as double),
        cast(start_date as date), cast(contract_end_date as date)
    from {latest_loads("fixed_subscriptions", ["icoms_account_uid", "product"], live)}
),

term_events as (
    -- Recontracts and price changes up to the day, attached to the subscription live on the event date.
    select
        s.subscription_id, e.event_id, e.event_type, e.event_date,
        e.new_contract_end_date, e.new_monthly_fee
    from subscriptions as s
    inner join (
        select
            cast(event_id as varchar) as event_id, cast(customer_id as varchar) as customer_id,
            lower(trim(product)) as product, lower(trim(event_type)) as event_type,
            cast(event_date as date) as event_date, cast(new_contract_end_date as date) as new_contract_end_date,
            cast(new_monthly_fee as double) as new_monthly_fee
        from {latest_loads("contract_events", ["event_id"],
                           f"event_date <= {d} and lower(trim(event_type)) in ('recontract', 'price_change')")}
    ) as e
        on e.customer_id = s.customer_id and e.product = s.product and e.event_date >= s.start_date
),

contract_end as (
    select subscription_id, new_contract_end_date
    from term_events
    where event_type = 'recontract' and new_contract_end_date is not null
    qualify row_number() over (partition by subscription_id order by event_date desc, event_id desc) = 1
),

fee as (
    select subscription_id, new_monthly_fee
    from term_events
    where new_monthly_fee is not null
    qualify row_number() over (partition by subscription_id order by event_date desc, event_id desc) = 1
),

holdings as (
    select
        s.customer_id, s.product, s.account_id, s.package, s.provisioned_mbps, s.start_date,
        coalesce(c.new_contract_end_date, s.initial_contract_end_date) as contract_end_date,
        coalesce(f.new_monthly_fee, s.initial_monthly_fee) as monthly_fee
    from subscriptions as s
    left join contract_end as c on c.subscription_id = s.subscription_id
    left join fee as f on f.subscription_id = s.subscription_id
    -- At most one live subscription per product; overlapping source rows: the most recent activation.
    qualify row_number() over (
        partition by s.customer_id, s.product order by s.start_date desc, s.subscription_id desc
    ) = 1
),

per_customer as (
    select
        customer_id,
        bool_or(product = 'mobile') as has_mobile,
        bool_or(product = 'tv') as has_tv,
        bool_or(product = 'broadband') as has_broadband,
        max(case when product = 'mobile' then account_id end) as msisdn,
        max(case when product = 'mobile' then package end) as mobile_plan_type,
        max(case when product = 'mobile' then start_date end) as mobile_start_date,
        max(case when product = 'mobile' then contract_end_date end) as mobile_contract_end_date,
        max(case when product = 'tv' then account_id end) as tv_account_uid,
        max(case when product = 'tv' then package end) as tv_package,
        max(case when product = 'tv' then start_date end) as tv_start_date,
        max(case when product = 'tv' then contract_end_date end) as tv_contract_end_date,
        max(case when product = 'broadband' then account_id end) as broadband_account_uid,
        max(case when product = 'broadband' then package end) as broadband_speed_tier,
        max(case when product = 'broadband' then provisioned_mbps end) as broadband_provisioned_mbps,
        max(case when product = 'broadband' then start_date end) as broadband_start_date,
        max(case when product = 'broadband' then contract_end_date end) as broadband_contract_end_date,
        sum({_exact("monthly_fee")}) as monthly_revenue
    from holdings
    group by customer_id
)

select
    {d} as snapshot_date,
    p.customer_id,
    lower(trim(c.region)) as region,
    lower(trim(c.network_area)) as network_area,
    lower(trim(c.customer_type)) as customer_type,
    cast(c.signup_date as date) as signup_date,
    cast({_months_between("cast(c.signup_date as date)", d)} as double) as tenure_months,
    p.has_mobile, p.has_tv, p.has_broadband,
    p.msisdn, p.mobile_plan_type, p.mobile_start_date, p.mobile_contract_end_date,
    coalesce(p.tv_account_uid, p.broadband_account_uid) as icoms_account_uid,
    p.tv_package, p.tv_start_date, p.tv_contract_end_date,
    p.broadband_speed_tier, p.broadband_provisioned_mbps, p.broadband_start_date, p.broadband_contract_end_date,
    cast(p.monthly_revenue as double) as monthly_revenue
from per_customer as p
inner join {latest_loads("customers", ["customer_id"],
                         "customer_id in (select customer_id from per_customer)", how="grain")} as c
    on c.customer_id = p.customer_id"""


# --- 2. the families every cohort shares, per (customer, product) ----------------------------------------------
def _outage_sql(day: date) -> tuple[str, str, str]:
    """(CTE, joins, column) of outage minutes: outages of the product that started in the 28 days ending on
    the day and reached the customer, summed exactly; pre-aggregated per region, product and network area so
    the population joins a handful of rows."""
    cte = f"""outages as (
    select
        lower(trim(region)) as region, lower(trim(product)) as product, lower(trim(network_area)) as network_area,
        sum({_exact("cast(duration_minutes as double)")}) as minutes
    from {latest_loads("network_outages", ["outage_id"], _trailing("cast(start_ts as date)", day, 28))}
    group by all
)"""
    # An outage without an area hits the whole region; one with an area only the customers in that area.
    joins = """left join outages as o_all
    on o_all.region = h.region and o_all.product = h.product and o_all.network_area is null
left join outages as o_area
    on o_area.region = h.region and o_area.product = h.product and o_area.network_area = h.network_area
"""
    # Exact decimal sums: the two parts add up to the sum over all matching outages.
    column = ("case when o_all.minutes is null and o_area.minutes is null then null "
              "else coalesce(o_all.minutes, 0) + coalesce(o_area.minutes, 0) end")
    return cte, joins, column


def product_events_sql(day: date) -> str:
    """Per held (customer, product): outage minutes (28 days), fault tickets and care contacts (90 days),
    late payments and bill shocks (180 days), billed amounts of the last 3 and the prior 3 months. NULL
    where the customer-product had no such event (the cohort statements turn that into 0)."""
    d = _lit(day)
    six_months = _months_before(day, 6)
    three_months = _months_before(day, 3)
    due_window = _trailing("due_date", day, 180)
    outage_ctes, outage_join, outage_column = _outage_sql(day)
    return f"""
with held as (
    select c.customer_id, c.region, c.network_area, u.product
    from {CUSTOMER_360_TABLE} as c
    cross join (values ('mobile'), ('tv'), ('broadband')) as u(product)
    where case u.product when 'mobile' then c.has_mobile when 'tv' then c.has_tv else c.has_broadband end
),

{outage_ctes},

faults as (
    select cast(customer_id as varchar) as customer_id, lower(trim(product)) as product,
        count(*) as fault_tickets_90d
    from {latest_loads("fault_tickets", ["ticket_id"], _trailing("cast(opened_ts as date)", day, 90))}
    group by all
),

care as (
    select cast(customer_id as varchar) as customer_id, lower(trim(product)) as product,
        count(*) as care_contacts_90d,
        sum(case when coalesce(cast(is_complaint as boolean), false) then 1 else 0 end) as complaints_90d
    from {latest_loads("care_contacts", ["contact_id"], _trailing("cast(contact_ts as date)", day, 90))}
    group by all
),

bills as (
    -- Every bill up to the day: a bill shock compares a bill with the three before it, however old.
    select cast(bill_id as varchar) as bill_id, cast(customer_id as varchar) as customer_id,
        lower(trim(product)) as product, cast(bill_date as date) as bill_date, cast(due_date as date) as due_date,
        cast(amount as double) as billed_amount
    from {latest_loads("bills", ["bill_id"], f"bill_date <= {d}", how="dedup")}
),

paid_in_time as (
    -- A bill due in the window is late unless a payment cleared by its due date (so by the day).
    select cast(bill_id as varchar) as bill_id, min(cast(paid_date as date)) as first_paid_date
    from {latest_loads("payments", ["payment_id"],
                       f"paid_date <= {d} and bill_id in (select bill_id from bills where {due_window})")}
    group by all
),

flagged as (
    select
        b.customer_id, b.product, b.bill_date, b.due_date, b.billed_amount,
        (p.first_paid_date is null or p.first_paid_date > b.due_date) as is_late,
        coalesce(count(*) over previous_3 = 3
                 and b.billed_amount >= 1.3 * avg({_exact("b.billed_amount")}) over previous_3, false) as is_bill_shock
    from bills as b
    left join paid_in_time as p on p.bill_id = b.bill_id
    window previous_3 as (
        partition by b.customer_id, b.product order by b.bill_date, b.bill_id
        rows between 3 preceding and 1 preceding
    )
),

billing as (
    select
        customer_id, product,
        sum(case when is_late and {due_window} then 1 else 0 end) as late_payments_180d,
        sum(case when is_bill_shock and {_trailing("bill_date", day, 180)} then 1 else 0 end) as bill_shocks_180d,
        sum(case when bill_date > {three_months} then {_exact("billed_amount")} else 0 end) as billed_last_3m,
        sum(case when bill_date > {six_months} and bill_date <= {three_months}
                 then {_exact("billed_amount")} else 0 end) as billed_prior_3m
    from flagged
    where bill_date > {six_months} or due_date > {_lit(day - timedelta(days=180))}
    group by all
)

select
    h.customer_id, h.product,
    {outage_column} as outage_minutes_28d,
    f.fault_tickets_90d, c.care_contacts_90d, c.complaints_90d,
    b.late_payments_180d, b.bill_shocks_180d, b.billed_last_3m, b.billed_prior_3m
from held as h
{outage_join}left join faults as f on f.customer_id = h.customer_id and f.product = h.product
left join care as c on c.customer_id = h.customer_id and c.product = h.product
left join billing as b on b.customer_id = h.customer_id and b.product = h.product"""


# --- 3. one statement per cohort -----------------------------------------------------------------------------------
# Per cohort: the raw usage table, its account key, the population's segment and account columns, the usage
# measures (in the product's units), and the usage feature aggregates in config.FEATURES order.
_USAGE: dict[Cohort, dict[str, str]] = {
    Cohort.MOBILE: {
        "table": "mobile_usage_weekly", "key": "msisdn", "segment": "mobile_plan_type", "account": "msisdn",
        "measures": ("cast(data_mb as double) / 1024.0 as data_gb, cast(voice_minutes as double) as voice_minutes, "
                     "cast(calls as bigint) as calls_attempted, cast(dropped_calls as bigint) as dropped_calls"),
    },
    Cohort.TV: {
        "table": "tv_viewing_weekly", "key": "icoms_account_uid", "segment": "tv_package",
        "account": "icoms_account_uid",
        "measures": ("cast(viewing_minutes as double) / 60.0 as viewing_hours, cast(active_days as bigint) "
                     "as active_days, cast(buffering_events as bigint) as buffering_events"),
    },
    Cohort.BROADBAND: {
        "table": "broadband_usage_weekly", "key": "icoms_account_uid", "segment": "broadband_speed_tier",
        "account": "icoms_account_uid",
        "measures": ("cast(download_gb as double) as download_gb, cast(upload_gb as double) as upload_gb, "
                     "cast(avg_delivered_mbps as double) as avg_delivered_mbps, "
                     "cast(provisioned_mbps as bigint) as provisioned_mbps"),
    },
}


def _last_4_sum(column: str) -> str:
    return f"sum(case when in_last_4_weeks then {_exact(column)} else 0 end)"


def _ratio(numerator: str, denominator: str) -> str:
    """The product's safe division: NULL instead of a division by zero."""
    return f"(cast({numerator} as double) / nullif(cast({denominator} as double), 0))"


def _trend(column: str) -> str:
    """Mean weekly volume of the last 4 weeks (0 when none reported) over that of the 12 weeks before."""
    return _ratio(f"coalesce(avg(case when in_last_4_weeks then {_exact(column)} end), 0)",
                  f"avg(case when not in_last_4_weeks then {_exact(column)} end)")


def _usage_features(cohort: Cohort) -> list[tuple[str, str, bool]]:
    """(feature, aggregate over the usage weeks, whether a missing aggregate means 0) in config order."""
    if cohort is Cohort.MOBILE:
        return [
            ("data_gb_28d", _last_4_sum("data_gb"), True),
            ("data_trend_28d", _trend("data_gb"), False),
            ("voice_minutes_28d", _last_4_sum("voice_minutes"), True),
            # No call attempted: a rate of nothing is unknown, not zero.
            ("dropped_call_rate_28d", _ratio(_last_4_sum("dropped_calls"), _last_4_sum("calls_attempted")), False),
        ]
    if cohort is Cohort.TV:
        return [
            ("viewing_hours_28d", _last_4_sum("viewing_hours"), True),
            ("viewing_trend_28d", _trend("viewing_hours"), False),
            ("active_days_28d", _last_4_sum("active_days"), True),
            ("buffering_events_28d", _last_4_sum("buffering_events"), True),
        ]
    return [
        ("download_gb_28d", _last_4_sum("download_gb"), True),
        ("traffic_trend_28d", _trend("download_gb"), False),
        ("speed_ratio_28d", _ratio(f"avg(case when in_last_4_weeks then {_exact('avg_delivered_mbps')} end)",
                                   f"avg(case when in_last_4_weeks then {_exact('provisioned_mbps')} end)"), False),
        ("upload_gb_28d", _last_4_sum("upload_gb"), True),
    ]


def cohort_features_sql(cohort: Cohort, day: date) -> str:
    """``<cohort>_features`` for ``day``: one row per customer holding the product, usage features from the
    16 usage weeks ending on or before the day (the last 4 and the 12 before), the shared families from
    ``baseline_product_events`` (0 without events), tenure and months to contract end."""
    p = cohort.value
    u = _USAGE[cohort]
    usage = _usage_features(cohort)
    aggregates = ",\n        ".join(f"{agg} as {name}" for name, agg, _ in usage)
    usage_columns = ",\n    ".join(
        f"cast({f'coalesce(uf.{name}, 0)' if zero else f'uf.{name}'} as double) as {name}" for name, _, zero in usage
    )
    counts = ("outage_minutes_28d", "fault_tickets_90d", "care_contacts_90d", "complaints_90d",
              "late_payments_180d", "bill_shocks_180d")
    count_columns = ",\n    ".join(f"cast(coalesce(e.{c}, 0) as double) as {c}" for c in counts)
    return f"""
with population as (
    select snapshot_date, customer_id, {u["segment"]} as segment, {u["account"]} as account_id,
        {p}_start_date as product_start_date, {p}_contract_end_date as contract_end_date
    from {CUSTOMER_360_TABLE}
    where has_{p}
),

usage_weeks as (
    select cast({u["key"]} as varchar) as account_id, {u["measures"]},
        {_trailing("cast(week_ending as date)", day, 28)} as in_last_4_weeks
    from {latest_loads(u["table"], [u["key"], "week_ending"], _trailing("week_ending", day, 112),
                       how="grain")}
),

usage_features as (
    select
        p.customer_id,
        {aggregates}
    from population as p
    inner join usage_weeks as w on w.account_id = p.account_id
    group by p.customer_id
)

select
    p.snapshot_date,
    p.customer_id,
    p.segment,
    {usage_columns},
    {count_columns},
    cast({_months_between("p.product_start_date", "p.snapshot_date")} as double) as tenure_months,
    cast({_months_between("p.snapshot_date", "p.contract_end_date")} as double) as months_to_contract_end,
    cast(coalesce(e.billed_last_3m, 0) / 3.0 as double) as arpu_3m,
    cast((coalesce(e.billed_last_3m, 0) - coalesce(e.billed_prior_3m, 0)) / 3.0 as double) as arpu_change_3m
from population as p
left join usage_features as uf on uf.customer_id = p.customer_id
left join {PRODUCT_EVENTS_TABLE} as e on e.customer_id = p.customer_id and e.product = '{p}'"""


def hand_written_statements(day: date) -> tuple[tuple[str, str], ...]:
    """The baseline's feature statements for ``day``, in order: (temporary table, its SELECT)."""
    return (
        (CUSTOMER_360_TABLE, customer_360_sql(day)),
        (PRODUCT_EVENTS_TABLE, product_events_sql(day)),
        *((f"{PREFIX}{c.value}_features", cohort_features_sql(c, day)) for c in COHORTS),
    )
