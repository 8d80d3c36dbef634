-- One row per bill, latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'bills'),
        grain=['bill_id'],
        columns=['bill_id', 'customer_id', 'product', 'bill_date', 'due_date', 'amount', 'loaded_at'],
    ) }}
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
