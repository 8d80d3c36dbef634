{{ config(**trust_index.daily_model_config()) }}

-- Broadband behaviour features, one row per customer holding Broadband on each snapshot date, computed only
-- from data dated on or before that date. Columns: config.FEATURES[broadband], in that order.
with {{ trust_index.feature_population('broadband', 'broadband_speed_tier', 'icoms_account_uid') }},

{{ trust_index.usage_weeks_cte('broadband') }},

usage_features as (
    select
        snapshot_date,
        customer_id,
        {{ trust_index.last_4_weeks_sum('download_gb') }} as download_gb_28d,
        {{ trust_index.usage_trend('download_gb') }} as traffic_trend_28d,
        -- Mean delivered over mean provisioned speed of the weeks reported; NULL without a reported week.
        {{ trust_index.safe_divide(
            'avg(case when in_last_4_weeks = 1 then ' ~ trust_index.exact_measure('avg_delivered_mbps') ~ ' end)',
            'avg(case when in_last_4_weeks = 1 then ' ~ trust_index.exact_measure('provisioned_mbps') ~ ' end)'
        ) }} as speed_ratio_28d,
        {{ trust_index.last_4_weeks_sum('upload_gb') }} as upload_gb_28d
    from usage_weeks
    group by snapshot_date, customer_id
)

select
    population.snapshot_date,
    population.customer_id,
    population.segment,
    cast(coalesce(usage_features.download_gb_28d, 0) as {{ trust_index.type_double() }}) as download_gb_28d,
    cast(usage_features.traffic_trend_28d as {{ trust_index.type_double() }}) as traffic_trend_28d,
    cast(usage_features.speed_ratio_28d as {{ trust_index.type_double() }}) as speed_ratio_28d,
    cast(coalesce(usage_features.upload_gb_28d, 0) as {{ trust_index.type_double() }}) as upload_gb_28d,
    {{ trust_index.common_feature_columns() }}
from population
left join usage_features
    on usage_features.snapshot_date = population.snapshot_date
    and usage_features.customer_id = population.customer_id
{{ trust_index.common_feature_join('broadband') }}
