-- One row per customer (latest load), with normalised enumerations.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'customers'),
        grain=['customer_id'],
        columns=['customer_id', 'signup_date', 'region', 'network_area', 'birth_year', 'customer_type', 'loaded_at'],
    ) }}
)

select
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    cast(signup_date as date) as signup_date,
    lower(trim(region)) as region,
    lower(trim(network_area)) as network_area,
    cast(birth_year as {{ trust_index.type_bigint() }}) as birth_year,
    lower(trim(customer_type)) as customer_type,
    loaded_at
from source
