{{ config(**trust_index.daily_model_config()) }}

-- Who the customer is on each snapshot date: one row per customer holding at least one product on that
-- date, with identifiers, holdings, segments, contract ends and revenue as of the date. Every downstream
-- model joins here.
with snapshot_dates as (
    {{ trust_index.snapshot_date_spine() }}
),

holdings_on_date as (
    select
        d.snapshot_date,
        -- The holdings' columns by name: a `*` here would sit next to holding_rank.
        h.subscription_id,
        h.customer_id,
        h.product,
        h.account_id,
        h.package,
        h.provisioned_mbps,
        h.start_date,
        h.end_date,
        h.valid_from,
        h.valid_to,
        h.contract_end_date,
        h.monthly_fee,
        -- A customer holds at most one live subscription per product; the rank only guards against
        -- overlapping source rows (the most recent activation wins).
        row_number() over (
            partition by d.snapshot_date, h.customer_id, h.product
            order by h.start_date desc, h.subscription_id desc
        ) as holding_rank
    from snapshot_dates as d
    inner join {{ ref('int_product_holdings') }} as h
        on {{ trust_index.holding_on_date('h', 'd.snapshot_date') }}
),

per_customer as (
    select
        snapshot_date,
        customer_id,
        max(case when product = 'mobile' then 1 else 0 end) as holds_mobile,
        max(case when product = 'tv' then 1 else 0 end) as holds_tv,
        max(case when product = 'broadband' then 1 else 0 end) as holds_broadband,
        max(case when product = 'mobile' then account_id end) as msisdn,
        max(case when product = 'mobile' then package end) as mobile_plan_type,
        max(case when product = 'mobile' then start_date end) as mobile_start_date,
        max(case when product = 'mobile' then contract_end_date end) as mobile_contract_end_date,
        max(case when product = 'tv' then account_id end) as tv_account_uid,
        max(case when product = 'tv' then package end) as tv_package,
        max(case when product = 'tv' then start_date end) as tv_start_date,
        max(case when product = 'tv' then contract_end_date end) as tv_contract_end_date,
        max(case when product = 'broadband' then account_id end) as broadband_account_uid,
        max(case when product = 'broadband' then package end) as broadband_speed_tier,
        max(case when product = 'broadband' then provisioned_mbps end) as broadband_provisioned_mbps,
        max(case when product = 'broadband' then start_date end) as broadband_start_date,
        max(case when product = 'broadband' then contract_end_date end) as broadband_contract_end_date,
        sum({{ trust_index.exact_measure('monthly_fee') }}) as monthly_revenue
    from holdings_on_date
    where holding_rank = 1
    group by snapshot_date, customer_id
)

select
    p.snapshot_date,
    p.customer_id,
    c.region,
    c.network_area,
    c.customer_type,
    c.signup_date,
    cast({{ trust_index.months_between('c.signup_date', 'p.snapshot_date') }} as {{ trust_index.type_double() }}) as tenure_months,
    p.holds_mobile = 1 as has_mobile,
    p.holds_tv = 1 as has_tv,
    p.holds_broadband = 1 as has_broadband,
    p.msisdn,
    p.mobile_plan_type,
    p.mobile_start_date,
    p.mobile_contract_end_date,
    -- TV and broadband share the customer's ICOMS account.
    coalesce(p.tv_account_uid, p.broadband_account_uid) as icoms_account_uid,
    p.tv_package,
    p.tv_start_date,
    p.tv_contract_end_date,
    p.broadband_speed_tier,
    cast(p.broadband_provisioned_mbps as {{ trust_index.type_bigint() }}) as broadband_provisioned_mbps,
    p.broadband_start_date,
    p.broadband_contract_end_date,
    cast(p.monthly_revenue as {{ trust_index.type_double() }}) as monthly_revenue
from per_customer as p
inner join {{ ref('stg_customers') }} as c
    on c.customer_id = p.customer_id
