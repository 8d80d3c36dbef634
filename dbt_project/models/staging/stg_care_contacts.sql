-- One row per care contact, latest load; contact_date is the UTC calendar date of the contact.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'care_contacts'),
        grain=['contact_id'],
        columns=['contact_id', 'customer_id', 'product', 'contact_ts', 'channel', 'reason', 'is_complaint', 'loaded_at'],
    ) }}
)

select
    cast(contact_id as {{ trust_index.type_string() }}) as contact_id,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(product)) as product,
    contact_ts as contacted_at,
    cast(contact_ts as date) as contact_date,
    lower(trim(channel)) as channel,
    lower(trim(reason)) as reason,
    coalesce(cast(is_complaint as {{ trust_index.type_boolean() }}), false) as is_complaint,
    loaded_at
from source
