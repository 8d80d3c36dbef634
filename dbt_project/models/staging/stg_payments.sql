-- One row per payment, latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'payments'),
        grain=['payment_id'],
        columns=['payment_id', 'bill_id', 'customer_id', 'paid_date', 'amount', 'loaded_at'],
    ) }}
)

select
    cast(payment_id as {{ trust_index.type_string() }}) as payment_id,
    cast(bill_id as {{ trust_index.type_string() }}) as bill_id,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    cast(paid_date as date) as paid_date,
    cast(amount as {{ trust_index.type_double() }}) as paid_amount,
    loaded_at
from source
