-- One row per ICOMS account and fixed product (tv, broadband), latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'fixed_subscriptions'),
        grain=['icoms_account_uid', 'product'],
        columns=['icoms_account_uid', 'customer_id', 'product', 'package', 'provisioned_mbps', 'monthly_fee', 'start_date', 'contract_end_date', 'end_date', 'loaded_at'],
    ) }}
)

select
    cast(icoms_account_uid as {{ trust_index.type_string() }}) as icoms_account_uid,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(product)) as product,
    lower(trim(package)) as package,
    cast(provisioned_mbps as {{ trust_index.type_bigint() }}) as provisioned_mbps,
    cast(monthly_fee as {{ trust_index.type_double() }}) as initial_monthly_fee,
    cast(start_date as date) as start_date,
    cast(contract_end_date as date) as initial_contract_end_date,
    cast(end_date as date) as end_date,
    loaded_at
from source
