-- Every product subscription of every customer in one shape: mobile lines and fixed (TV, broadband)
-- products, with the values they had at activation.
with mobile as (
    select
        msisdn as subscription_id,
        customer_id,
        'mobile' as product,
        msisdn as account_id,
        plan_type as package,
        cast(null as {{ trust_index.type_bigint() }}) as provisioned_mbps,
        initial_monthly_fee,
        start_date,
        initial_contract_end_date,
        end_date
    from {{ ref('stg_mobile_subscriptions') }}
),

fixed as (
    select
        {{ dbt.concat(["icoms_account_uid", "':'", "product"]) }} as subscription_id,
        customer_id,
        product,
        icoms_account_uid as account_id,
        package,
        provisioned_mbps,
        initial_monthly_fee,
        start_date,
        initial_contract_end_date,
        end_date
    from {{ ref('stg_fixed_subscriptions') }}
)

select * from mobile
union all
select * from fixed
