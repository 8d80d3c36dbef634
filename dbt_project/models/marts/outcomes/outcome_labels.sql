-- Outcomes of the population holding each product on the reference date, observed in the outcome window
-- after it: churn and recontract from contract events, net revenue change from bills. Built from staging
-- only (never from the generator's hidden truth), so the same model works on an operator's own data.
{%- set reference_date = trust_index.date_literal(var('reference_date')) %}
{%- set outcome_start = trust_index.date_literal(var('outcome_start')) %}
{%- set outcome_end = trust_index.date_literal(var('outcome_end')) %}
{%- set outcome_months = trust_index.months_in_window(var('outcome_start'), var('outcome_end')) %}
{%- set baseline_months = 6 %}

with population as (
    -- Same holding rule as customer_360_definition (macro holding_on_date).
    select distinct h.product as cohort, h.customer_id
    from {{ ref('int_product_holdings') }} as h
    where {{ trust_index.holding_on_date('h', reference_date) }}
),

events_in_window as (
    select
        customer_id,
        product,
        max(case when event_type = 'termination' then 1 else 0 end) as churned,
        max(case when event_type = 'recontract' then 1 else 0 end) as recontracted
    from {{ ref('stg_contract_events') }}
    where event_date between {{ outcome_start }} and {{ outcome_end }}
    group by customer_id, product
),

billed as (
    select
        customer_id,
        product,
        sum(case
            when bill_date between {{ outcome_start }} and {{ outcome_end }} then billed_amount
            else 0
        end) as outcome_billed,
        sum(case
            when bill_date > {{ trust_index.add_months(reference_date, -baseline_months) }}
                and bill_date <= {{ reference_date }} then billed_amount
            else 0
        end) as baseline_billed
    from {{ ref('stg_bills') }}
    where bill_date > {{ trust_index.add_months(reference_date, -baseline_months) }}
        and bill_date <= {{ outcome_end }}
    group by customer_id, product
)

select
    population.cohort,
    population.customer_id,
    {{ reference_date }} as reference_date,
    coalesce(events_in_window.churned, 0) = 1 as is_churn,
    coalesce(events_in_window.recontracted, 0) = 1 as is_recontract,
    -- Mean monthly billed amount over the {{ outcome_months }} outcome months (months without a bill, e.g.
    -- after churn, count 0) minus the mean over the {{ baseline_months }} months up to the reference date.
    cast(
        coalesce(billed.outcome_billed, 0) / {{ outcome_months }}.0
        - coalesce(billed.baseline_billed, 0) / {{ baseline_months }}.0
        as {{ trust_index.type_double() }}
    ) as revenue_change
from population
left join events_in_window
    on events_in_window.customer_id = population.customer_id
    and events_in_window.product = population.cohort
left join billed
    on billed.customer_id = population.customer_id
    and billed.product = population.cohort
