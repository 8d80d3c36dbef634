-- One row per contract event (termination, recontract, price_change), latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'contract_events'),
        grain=['event_id'],
        columns=['event_id', 'customer_id', 'product', 'event_type', 'event_date', 'new_contract_end_date', 'new_monthly_fee', 'loaded_at'],
    ) }}
)

select
    cast(event_id as {{ trust_index.type_string() }}) as event_id,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(product)) as product,
    lower(trim(event_type)) as event_type,
    cast(event_date as date) as event_date,
    cast(new_contract_end_date as date) as new_contract_end_date,
    cast(new_monthly_fee as {{ trust_index.type_double() }}) as new_monthly_fee,
    loaded_at
from source
