-- The terms of every subscription over time: one row per subscription and interval [valid_from, valid_to)
-- during which its contract end date and monthly fee were constant. Recontracts set a new contract end
-- (and usually a new fee), price changes set a new fee; events apply from their event_date. An event is
-- attached to the subscription of the same customer and product that was live on the event date.
--
-- Holding a product on date D: valid_from <= D < valid_to (or valid_to is null) and (end_date is null or
-- end_date > D); see the macro holding_on_date.
with subscriptions as (
    select * from {{ ref('int_subscriptions') }}
),

term_events as (
    select
        s.subscription_id,
        e.event_id,
        e.event_type,
        e.event_date,
        e.new_contract_end_date,
        e.new_monthly_fee
    from subscriptions as s
    inner join {{ ref('stg_contract_events') }} as e
        on e.customer_id = s.customer_id
        and e.product = s.product
        and e.event_date >= s.start_date
        and (s.end_date is null or e.event_date < s.end_date)
    where e.event_type in ('recontract', 'price_change')
),

change_points as (
    select distinct subscription_id, valid_from
    from (
        select subscription_id, start_date as valid_from from subscriptions
        union all
        select subscription_id, event_date as valid_from from term_events
    ) as all_points
),

contract_end_as_of as (
    -- The latest recontract on or before each change point.
    select subscription_id, valid_from, new_contract_end_date
    from (
        select
            cp.subscription_id,
            cp.valid_from,
            e.new_contract_end_date,
            row_number() over (
                partition by cp.subscription_id, cp.valid_from
                order by e.event_date desc, e.event_id desc
            ) as recency
        from change_points as cp
        inner join term_events as e
            on e.subscription_id = cp.subscription_id
            and e.event_date <= cp.valid_from
        where e.event_type = 'recontract' and e.new_contract_end_date is not null
    ) as ranked
    where recency = 1
),

fee_as_of as (
    -- The latest fee-setting event (recontract or price change) on or before each change point.
    select subscription_id, valid_from, new_monthly_fee
    from (
        select
            cp.subscription_id,
            cp.valid_from,
            e.new_monthly_fee,
            row_number() over (
                partition by cp.subscription_id, cp.valid_from
                order by e.event_date desc, e.event_id desc
            ) as recency
        from change_points as cp
        inner join term_events as e
            on e.subscription_id = cp.subscription_id
            and e.event_date <= cp.valid_from
        where e.new_monthly_fee is not null
    ) as ranked
    where recency = 1
),

intervals as (
    select
        subscription_id,
        valid_from,
        lead(valid_from) over (partition by subscription_id order by valid_from) as valid_to
    from change_points
)

select
    s.subscription_id,
    s.customer_id,
    s.product,
    s.account_id,
    s.package,
    s.provisioned_mbps,
    s.start_date,
    s.end_date,
    i.valid_from,
    i.valid_to,
    coalesce(c.new_contract_end_date, s.initial_contract_end_date) as contract_end_date,
    coalesce(f.new_monthly_fee, s.initial_monthly_fee) as monthly_fee
from intervals as i
inner join subscriptions as s
    on s.subscription_id = i.subscription_id
left join contract_end_as_of as c
    on c.subscription_id = i.subscription_id
    and c.valid_from = i.valid_from
left join fee_as_of as f
    on f.subscription_id = i.subscription_id
    and f.valid_from = i.valid_from
