-- One row per mobile line and usage week, latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'mobile_usage_weekly'),
        grain=['msisdn', 'week_ending'],
        columns=['msisdn', 'week_ending', 'data_mb', 'voice_minutes', 'calls', 'dropped_calls', 'loaded_at'],
    ) }}
)

select
    cast(msisdn as {{ trust_index.type_string() }}) as msisdn,
    cast(week_ending as date) as week_ending,
    cast(data_mb as {{ trust_index.type_double() }}) as data_mb,
    cast(voice_minutes as {{ trust_index.type_double() }}) as voice_minutes,
    cast(calls as {{ trust_index.type_bigint() }}) as calls_attempted,
    cast(dropped_calls as {{ trust_index.type_bigint() }}) as dropped_calls,
    loaded_at
from source
