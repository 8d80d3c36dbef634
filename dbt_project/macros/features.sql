{#
  What the three cohort feature models share. Each model defines `population` with feature_population: one row
  per (snapshot_date, customer_id) holding the product, from customer_360_definition, with the product's segment
  and usage account; common_feature_join attaches the families every cohort shares, computed once per day for all
  products in int_common_features. Every window ends on the snapshot date, so nothing dated after it is read.
#}

{% macro feature_population(product, segment_column, account_column) -%}
population as (
    -- Customers holding the product on each snapshot date of the window, as customer_360_definition says.
    select
        snapshot_date,
        customer_id,
        {{ segment_column }} as segment,
        {{ account_column }} as account_id
    from {{ ref('customer_360_definition') }}
    where has_{{ product }}
        and {{ trust_index.snapshot_window_filter('snapshot_date') }}
)
{%- endmacro %}


{% macro common_feature_join(product) -%}
{#- A left join, so a population row without its shared families shows up as NULLs the not_null tests catch.
    int_common_features is partitioned by snapshot_date on BigQuery, which prunes partitions only on a constant
    bound in the WHERE of the SELECT that scans the table: a bound in the join condition (or one relative to
    population.snapshot_date) reads every day of its history. Hence the subquery: it scans the table for the
    window's dates (snapshot_window_filter, literals) and the product, and the join then pairs the rows; the
    result is the same as with these conditions in the ON. -#}
left join (
    select
        snapshot_date,
        customer_id,
        {%- for name in trust_index.common_feature_names() %}
        {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ ref('int_common_features') }}
    where {{ trust_index.snapshot_window_filter('snapshot_date') }}
        and product = '{{ product }}'
) as common
    on common.snapshot_date = population.snapshot_date
    and common.customer_id = population.customer_id
{%- endmacro %}


{% macro common_feature_names() -%}
    {#- config._COMMON_FEATURES in order, as int_common_features computed them. -#}
    {{ return([
        'outage_minutes_28d',
        'fault_tickets_90d',
        'care_contacts_90d',
        'complaints_90d',
        'late_payments_180d',
        'bill_shocks_180d',
        'tenure_months',
        'months_to_contract_end',
        'arpu_3m',
        'arpu_change_3m',
    ]) }}
{%- endmacro %}


{% macro common_feature_columns() -%}
    {#- The shared families of the joined int_common_features row (common_feature_join), in order. -#}
    {%- for name in trust_index.common_feature_names() %}
    common.{{ name }}{% if not loop.last %},{% endif %}
    {%- endfor %}
{%- endmacro %}


{% macro usage_weeks_cte(product) -%}
usage_weeks as (
    -- The 16 usage weeks ending on or before the date: the last 4 (week_ending in (D-28, D]) and the
    -- 12 before them (week_ending in (D-112, D-28]).
    select
        population.snapshot_date,
        population.customer_id,
        -- The usage columns by name: a `*` here would sit next to the population's names and in_last_4_weeks.
        u.week_ending,
        u.usage_volume,
        u.data_gb,
        u.voice_minutes,
        u.calls_attempted,
        u.dropped_calls,
        u.viewing_hours,
        u.active_days,
        u.buffering_events,
        u.download_gb,
        u.upload_gb,
        u.avg_delivered_mbps,
        u.provisioned_mbps,
        case
            when {{ trust_index.in_trailing_days('u.week_ending', 'population.snapshot_date', 28) }} then 1
            else 0
        end as in_last_4_weeks
    {#- The product's own usage table, read for the window's weeks only: week_ending is its partition column
        and part of its grain, so the constant bound (raw_partition_bound) sits on the raw table, below the
        latest-load deduplication, where BigQuery prunes on it. -#}
    {%- set staged = {
        'mobile': trust_index.staged_mobile_usage_weekly,
        'tv': trust_index.staged_tv_viewing_weekly,
        'broadband': trust_index.staged_broadband_usage_weekly,
    }[product] %}
    from population
    inner join (
        {{ trust_index.weekly_usage(product, '(' ~ staged(bounded=true) ~ ')') }}
    ) as u
        on u.product = '{{ product }}'
        and u.account_id = population.account_id
        and {{ trust_index.in_trailing_days('u.week_ending', 'population.snapshot_date', 112) }}
    where {{ trust_index.window_lookback_filter('u.week_ending', 112) }}
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
