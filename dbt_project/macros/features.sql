{#
  The feature families every cohort shares (config._COMMON_FEATURES), computed the same way for each
  product. The calling model defines a CTE `population` with one row per (snapshot_date, customer_id)
  holding the product, and the columns region, network_area, product_start_date and contract_end_date as of the
  date.
  Every window ends on the snapshot date, so nothing dated after it is read.
#}

{% macro feature_population(product, segment_column, account_column) -%}
population as (
    -- Customers holding the product on each snapshot date of the window, as customer_360_definition says.
    select
        snapshot_date,
        customer_id,
        region,
        network_area,
        {{ segment_column }} as segment,
        {{ account_column }} as account_id,
        {{ product }}_start_date as product_start_date,
        {{ product }}_contract_end_date as contract_end_date
    from {{ ref('customer_360_definition') }}
    where has_{{ product }}
        and {{ trust_index.snapshot_window_filter('snapshot_date') }}
)
{%- endmacro %}


{% macro common_feature_ctes(product) -%}
outage_features as (
    -- Outages of this product that started in the 28 days ending on the date and reached the customer: those of
    -- their own network area and those of their whole region (network_area NULL). Two equi-joins rather than one
    -- join on region with an OR: the OR pairs every customer with every outage of their region (tens of millions
    -- of rows at 1M customers, beyond the warehouse's memory limit) before filtering.
    select snapshot_date, customer_id, sum(minutes) as outage_minutes_28d
    from (
        select p.snapshot_date, p.customer_id, {{ trust_index.exact_measure('o.duration_minutes') }} as minutes
        from population as p
        inner join {{ ref('stg_network_outages') }} as o
            on o.network_area = p.network_area
            and o.region = p.region
            and o.product = '{{ product }}'
            and {{ trust_index.in_trailing_days('o.started_date', 'p.snapshot_date', 28) }}
        union all
        select p.snapshot_date, p.customer_id, {{ trust_index.exact_measure('o.duration_minutes') }} as minutes
        from population as p
        inner join {{ ref('stg_network_outages') }} as o
            on o.region = p.region
            and o.network_area is null
            and o.product = '{{ product }}'
            and {{ trust_index.in_trailing_days('o.started_date', 'p.snapshot_date', 28) }}
    ) as reached
    group by snapshot_date, customer_id
),

fault_features as (
    select p.snapshot_date, p.customer_id, count(*) as fault_tickets_90d
    from population as p
    inner join {{ ref('stg_fault_tickets') }} as t
        on t.customer_id = p.customer_id
        and t.product = '{{ product }}'
        and {{ trust_index.in_trailing_days('t.opened_date', 'p.snapshot_date', 90) }}
    group by p.snapshot_date, p.customer_id
),

care_features as (
    select
        p.snapshot_date,
        p.customer_id,
        count(*) as care_contacts_90d,
        sum(case when c.is_complaint then 1 else 0 end) as complaints_90d
    from population as p
    inner join {{ ref('stg_care_contacts') }} as c
        on c.customer_id = p.customer_id
        and c.product = '{{ product }}'
        and {{ trust_index.in_trailing_days('c.contact_date', 'p.snapshot_date', 90) }}
    group by p.snapshot_date, p.customer_id
),

billing_features as (
    select
        p.snapshot_date,
        p.customer_id,
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
    inner join {{ ref('int_bills') }} as b
        on b.customer_id = p.customer_id
        and b.product = '{{ product }}'
        and b.bill_date <= p.snapshot_date
        and (
            b.bill_date > {{ trust_index.add_months('p.snapshot_date', -6) }}
            or b.due_date > {{ trust_index.add_days('p.snapshot_date', -180) }}
        )
    group by p.snapshot_date, p.customer_id
)
{%- endmacro %}


{% macro common_feature_columns() -%}
    {%- set dbl = trust_index.type_double() -%}
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
{%- endmacro %}


{% macro common_feature_joins() -%}
left join outage_features
    on outage_features.snapshot_date = population.snapshot_date
    and outage_features.customer_id = population.customer_id
left join fault_features
    on fault_features.snapshot_date = population.snapshot_date
    and fault_features.customer_id = population.customer_id
left join care_features
    on care_features.snapshot_date = population.snapshot_date
    and care_features.customer_id = population.customer_id
left join billing_features
    on billing_features.snapshot_date = population.snapshot_date
    and billing_features.customer_id = population.customer_id
{%- endmacro %}


{% macro usage_weeks_cte(product) -%}
usage_weeks as (
    -- The 16 usage weeks ending on or before the date: the last 4 (week_ending in (D-28, D]) and the
    -- 12 before them (week_ending in (D-112, D-28]).
    select
        population.snapshot_date,
        population.customer_id,
        u.*,
        case
            when {{ trust_index.in_trailing_days('u.week_ending', 'population.snapshot_date', 28) }} then 1
            else 0
        end as in_last_4_weeks
    from population
    inner join {{ ref('int_weekly_usage') }} as u
        on u.product = '{{ product }}'
        and u.account_id = population.account_id
        and {{ trust_index.in_trailing_days('u.week_ending', 'population.snapshot_date', 112) }}
)
{%- endmacro %}


{% macro usage_trend(volume_column) -%}
    {#-
      Mean weekly volume of the last 4 weeks over the mean weekly volume of the 12 weeks before, each over
      the weeks reported. NULL without history before the last 4 weeks (or when it was all zero); the last
      4 weeks count as 0 when they reported nothing.
    -#}
    {{ trust_index.safe_divide(
        'coalesce(avg(case when in_last_4_weeks = 1 then ' ~ trust_index.exact_measure(volume_column) ~ ' end), 0)',
        'avg(case when in_last_4_weeks = 0 then ' ~ trust_index.exact_measure(volume_column) ~ ' end)'
    ) }}
{%- endmacro %}

{% macro last_4_weeks_sum(column) -%}
    sum(case when in_last_4_weeks = 1 then {{ trust_index.exact_measure(column) }} else 0 end)
{%- endmacro %}
