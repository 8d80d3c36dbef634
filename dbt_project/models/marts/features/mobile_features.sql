{{ config(**trust_index.daily_model_config()) }}

-- Mobile behaviour features, one row per customer holding Mobile on each snapshot date, computed only
-- from data dated on or before that date. Columns: config.FEATURES[mobile], in that order.
with {{ trust_index.feature_population('mobile', 'mobile_plan_type', 'msisdn') }},

{{ trust_index.usage_weeks_cte('mobile') }},

usage_features as (
    select
        snapshot_date,
        customer_id,
        {{ trust_index.last_4_weeks_sum('data_gb') }} as data_gb_28d,
        {{ trust_index.usage_trend('data_gb') }} as data_trend_28d,
        {{ trust_index.last_4_weeks_sum('voice_minutes') }} as voice_minutes_28d,
        -- NULL without a call attempted: a rate of nothing is unknown, not zero.
        {{ trust_index.safe_divide(trust_index.last_4_weeks_sum('dropped_calls'), trust_index.last_4_weeks_sum('calls_attempted')) }} as dropped_call_rate_28d
    from usage_weeks
    group by snapshot_date, customer_id
)

select
    population.snapshot_date,
    population.customer_id,
    population.segment,
    cast(coalesce(usage_features.data_gb_28d, 0) as {{ trust_index.type_double() }}) as data_gb_28d,
    cast(usage_features.data_trend_28d as {{ trust_index.type_double() }}) as data_trend_28d,
    cast(coalesce(usage_features.voice_minutes_28d, 0) as {{ trust_index.type_double() }}) as voice_minutes_28d,
    cast(usage_features.dropped_call_rate_28d as {{ trust_index.type_double() }}) as dropped_call_rate_28d,
    {{ trust_index.common_feature_columns() }}
from population
left join usage_features
    on usage_features.snapshot_date = population.snapshot_date
    and usage_features.customer_id = population.customer_id
{{ trust_index.common_feature_join('mobile') }}
