{{ config(**trust_index.daily_model_config()) }}

-- The feature families every cohort shares (config._COMMON_FEATURES), computed once for every product each
-- customer holds on each snapshot date of the window: one row per (snapshot_date, customer_id, product). The
-- three cohort feature models join these columns to their population, so a daily run reads each event table
-- once rather than once per cohort. Every window ends on the snapshot date. The event tables are read from the
-- raw tables through their staging macros with bounded=true: constant bounds on each table's partition column
-- (raw_partition_bound) cover every row a date of the window can use, so BigQuery reads only those partitions;
-- the per-date windows in the joins then pick each date's rows.
with population as (
    -- Customers holding each product on each snapshot date, as customer_360_definition says.
    {%- for product in ['mobile', 'tv', 'broadband'] %}
    select
        snapshot_date,
        customer_id,
        '{{ product }}' as product,
        region,
        network_area,
        {{ product }}_start_date as product_start_date,
        {{ product }}_contract_end_date as contract_end_date
    from {{ ref('customer_360_definition') }}
    where has_{{ product }}
        and {{ trust_index.snapshot_window_filter('snapshot_date') }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

outages as (
    select region, network_area, product, started_date, {{ trust_index.exact_measure('duration_minutes') }} as minutes
    from ({{ trust_index.staged_network_outages(bounded=true) }}) as staged_outages
    where {{ trust_index.window_lookback_filter('started_date', 28) }}
),

outage_features as (
    -- Outages of the product that started in the 28 days ending on the date and reached the customer: those of
    -- their own network area and those of their whole region (network_area NULL). Two equi-joins rather than one
    -- join on region with an OR: the OR pairs every customer with every outage of their region (tens of millions
    -- of rows at 1M customers) before filtering.
    select snapshot_date, customer_id, product, sum(minutes) as outage_minutes_28d
    from (
        select p.snapshot_date, p.customer_id, p.product, o.minutes
        from population as p
        inner join outages as o
            on o.network_area = p.network_area
            and o.region = p.region
            and o.product = p.product
            and {{ trust_index.in_trailing_days('o.started_date', 'p.snapshot_date', 28) }}
        union all
        select p.snapshot_date, p.customer_id, p.product, o.minutes
        from population as p
        inner join outages as o
            on o.region = p.region
            and o.network_area is null
            and o.product = p.product
            and {{ trust_index.in_trailing_days('o.started_date', 'p.snapshot_date', 28) }}
    ) as reached
    group by snapshot_date, customer_id, product
),

fault_features as (
    select p.snapshot_date, p.customer_id, p.product, count(*) as fault_tickets_90d
    from population as p
    inner join ({{ trust_index.staged_fault_tickets(bounded=true) }}) as t
        on t.customer_id = p.customer_id
        and t.product = p.product
        and {{ trust_index.in_trailing_days('t.opened_date', 'p.snapshot_date', 90) }}
    where {{ trust_index.window_lookback_filter('t.opened_date', 90) }}
    group by p.snapshot_date, p.customer_id, p.product
),

care_features as (
    select
        p.snapshot_date,
        p.customer_id,
        p.product,
        count(*) as care_contacts_90d,
        sum(case when c.is_complaint then 1 else 0 end) as complaints_90d
    from population as p
    inner join ({{ trust_index.staged_care_contacts(bounded=true) }}) as c
        on c.customer_id = p.customer_id
        and c.product = p.product
        and {{ trust_index.in_trailing_days('c.contact_date', 'p.snapshot_date', 90) }}
    where {{ trust_index.window_lookback_filter('c.contact_date', 90) }}
    group by p.snapshot_date, p.customer_id, p.product
),

bills_in_window as (
    -- Bills some date of the window can count (the join below applies each date's own bounds): billed by the
    -- window's end and either billed after its start - 6 months or due after its start - 180 days.
    {%- set start = trust_index.date_literal(trust_index.window_bound('start_date')) %}
    select customer_id, product, bill_date, due_date, billed_amount, is_late, is_bill_shock
    from (
        {{ trust_index.bill_facts(
            '(' ~ trust_index.staged_bills(bounded=true) ~ ')',
            '(' ~ trust_index.staged_payments(bounded=true, paid_only=true) ~ ')',
        ) }}
    ) as bills
    where bill_date <= {{ trust_index.date_literal(trust_index.window_bound('end_date')) }}
        and (bill_date > {{ trust_index.add_months(start, -6) }} or due_date > {{ trust_index.add_days(start, -180) }})
),

billing_features as (
    select
        p.snapshot_date,
        p.customer_id,
        p.product,
        -- Late payment: due in the 180 days ending on the date and not paid by the due date.
        sum(case
            when b.is_late and {{ trust_index.in_trailing_days('b.due_date', 'p.snapshot_date', 180) }} then 1
            else 0
        end) as late_payments_180d,
        sum(case
            when b.is_bill_shock and {{ trust_index.in_trailing_days('b.bill_date', 'p.snapshot_date', 180) }} then 1
            else 0
        end) as bill_shocks_180d,
        sum(case
            when b.bill_date > {{ trust_index.add_months('p.snapshot_date', -3) }} then {{ trust_index.exact_measure('b.billed_amount') }}
            else 0
        end) as billed_last_3m,
        sum(case
            when b.bill_date > {{ trust_index.add_months('p.snapshot_date', -6) }}
                and b.bill_date <= {{ trust_index.add_months('p.snapshot_date', -3) }} then {{ trust_index.exact_measure('b.billed_amount') }}
            else 0
        end) as billed_prior_3m
    from population as p
    inner join bills_in_window as b
        on b.customer_id = p.customer_id
        and b.product = p.product
        and b.bill_date <= p.snapshot_date
        and (
            b.bill_date > {{ trust_index.add_months('p.snapshot_date', -6) }}
            or b.due_date > {{ trust_index.add_days('p.snapshot_date', -180) }}
        )
    group by p.snapshot_date, p.customer_id, p.product
)

{%- set dbl = trust_index.type_double() %}

select
    population.snapshot_date,
    population.customer_id,
    population.product,
    -- Counts and sums without events are 0; only tenure and contract end can be unknown.
    cast(coalesce(outage_features.outage_minutes_28d, 0) as {{ dbl }}) as outage_minutes_28d,
    cast(coalesce(fault_features.fault_tickets_90d, 0) as {{ dbl }}) as fault_tickets_90d,
    cast(coalesce(care_features.care_contacts_90d, 0) as {{ dbl }}) as care_contacts_90d,
    cast(coalesce(care_features.complaints_90d, 0) as {{ dbl }}) as complaints_90d,
    cast(coalesce(billing_features.late_payments_180d, 0) as {{ dbl }}) as late_payments_180d,
    cast(coalesce(billing_features.bill_shocks_180d, 0) as {{ dbl }}) as bill_shocks_180d,
    cast({{ trust_index.months_between('population.product_start_date', 'population.snapshot_date') }} as {{ dbl }}) as tenure_months,
    -- NULL without a contract end (prepaid); negative once the minimum term has passed.
    cast({{ trust_index.months_between('population.snapshot_date', 'population.contract_end_date') }} as {{ dbl }}) as months_to_contract_end,
    -- Billed amount per month over 3 calendar months; a month without a bill counts as 0.
    cast(coalesce(billing_features.billed_last_3m, 0) / 3.0 as {{ dbl }}) as arpu_3m,
    cast((coalesce(billing_features.billed_last_3m, 0) - coalesce(billing_features.billed_prior_3m, 0)) / 3.0 as {{ dbl }}) as arpu_change_3m
from population
{%- for family in ['outage_features', 'fault_features', 'care_features', 'billing_features'] %}
left join {{ family }}
    on {{ family }}.snapshot_date = population.snapshot_date
    and {{ family }}.customer_id = population.customer_id
    and {{ family }}.product = population.product
{%- endfor %}
