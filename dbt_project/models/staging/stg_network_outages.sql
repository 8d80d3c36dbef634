-- One row per network outage, latest load; started_date is the UTC calendar date the outage started.
-- network_area is NULL for an outage of the whole region.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'network_outages'),
        grain=['outage_id'],
        columns=['outage_id', 'region', 'network_area', 'product', 'start_ts', 'duration_minutes', 'loaded_at'],
    ) }}
)

select
    cast(outage_id as {{ trust_index.type_string() }}) as outage_id,
    lower(trim(region)) as region,
    lower(trim(network_area)) as network_area,
    lower(trim(product)) as product,
    start_ts as started_at,
    cast(start_ts as date) as started_date,
    cast(duration_minutes as {{ trust_index.type_double() }}) as duration_minutes,
    loaded_at
from source
