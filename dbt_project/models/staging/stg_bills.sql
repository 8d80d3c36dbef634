-- One row per bill, latest load.
with source as (
    {{ trust_index.latest_rows(source('raw', 'bills'), ['bill_id']) }}
)

select
    cast(bill_id as {{ trust_index.type_string() }}) as bill_id,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(product)) as product,
    cast(bill_date as date) as bill_date,
    cast(due_date as date) as due_date,
    cast(amount as {{ trust_index.type_double() }}) as billed_amount,
    loaded_at
from source
