{{ config(**trust_index.daily_model_config()) }}

-- TV behaviour features, one row per customer holding TV on each snapshot date, computed only from data
-- dated on or before that date. Columns: config.FEATURES[tv], in that order.
with {{ trust_index.feature_population('tv', 'tv_package', 'icoms_account_uid') }},

{{ trust_index.usage_weeks_cte('tv') }},

usage_features as (
    select
        snapshot_date,
        customer_id,
        {{ trust_index.last_4_weeks_sum('viewing_hours') }} as viewing_hours_28d,
        {{ trust_index.usage_trend('viewing_hours') }} as viewing_trend_28d,
        {{ trust_index.last_4_weeks_sum('active_days') }} as active_days_28d,
        {{ trust_index.last_4_weeks_sum('buffering_events') }} as buffering_events_28d
    from usage_weeks
    group by snapshot_date, customer_id
)

select
    population.snapshot_date,
    population.customer_id,
    population.segment,
    cast(coalesce(usage_features.viewing_hours_28d, 0) as {{ trust_index.type_double() }}) as viewing_hours_28d,
    cast(usage_features.viewing_trend_28d as {{ trust_index.type_double() }}) as viewing_trend_28d,
    cast(coalesce(usage_features.active_days_28d, 0) as {{ trust_index.type_double() }}) as active_days_28d,
    cast(coalesce(usage_features.buffering_events_28d, 0) as {{ trust_index.type_double() }}) as buffering_events_28d,
    {{ trust_index.common_feature_columns() }}
from population
left join usage_features
    on usage_features.snapshot_date = population.snapshot_date
    and usage_features.customer_id = population.customer_id
{{ trust_index.common_feature_join('tv') }}
