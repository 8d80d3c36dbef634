-- One row per mobile line (MSISDN), latest load. Fee and contract end are the values at activation;
-- later changes arrive as contract events (see int_product_holdings).
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'mobile_subscriptions'),
        grain=['msisdn'],
        columns=['msisdn', 'customer_id', 'plan_type', 'monthly_fee', 'start_date', 'contract_end_date', 'end_date', 'loaded_at'],
    ) }}
)

select
    cast(msisdn as {{ trust_index.type_string() }}) as msisdn,
    cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
    lower(trim(plan_type)) as plan_type,
    cast(monthly_fee as {{ trust_index.type_double() }}) as initial_monthly_fee,
    cast(start_date as date) as start_date,
    cast(contract_end_date as date) as initial_contract_end_date,
    cast(end_date as date) as end_date,
    loaded_at
from source
