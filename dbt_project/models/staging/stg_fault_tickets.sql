-- One row per fault ticket, latest load; opened_date is the UTC calendar date the ticket was opened.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'fault_tickets'),
        grain=['ticket_id'],
        columns=['ticket_id', 'customer_id', 'product', 'opened_ts', 'resolved_ts', 'fault_type', 'loaded_at'],
    ) }}
)

select
    cast(ticket_id as {{ trust_index.type_string() }}) as ticket_id,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(product)) as product,
    opened_ts as opened_at,
    cast(opened_ts as date) as opened_date,
    resolved_ts as resolved_at,
    lower(trim(fault_type)) as fault_type,
    loaded_at
from source
