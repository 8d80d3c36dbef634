-- One row per TV account and viewing week, latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'tv_viewing_weekly'),
        grain=['icoms_account_uid', 'week_ending'],
        columns=['icoms_account_uid', 'week_ending', 'viewing_minutes', 'active_days', 'buffering_events', 'loaded_at'],
    ) }}
)

select
    cast(icoms_account_uid as {{ trust_index.type_string() }}) as icoms_account_uid,
    cast(week_ending as date) as week_ending,
    cast(viewing_minutes as {{ trust_index.type_double() }}) as viewing_minutes,
    cast(active_days as {{ trust_index.type_bigint() }}) as active_days,
    cast(buffering_events as {{ trust_index.type_bigint() }}) as buffering_events,
    loaded_at
from source
