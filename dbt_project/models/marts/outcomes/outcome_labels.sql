-- Outcomes of the population holding each product on the reference date, observed in the outcome window
-- after it: churn and recontract from contract events, net revenue change from bills. Built from staging
-- only (never from the generator's hidden truth), so the same model works on an operator's own data.
{%- set reference_date = trust_index.date_literal(var('reference_date')) %}
{%- set outcome_start = trust_index.date_literal(var('outcome_start')) %}
{%- set outcome_end = trust_index.date_literal(var('outcome_end')) %}
{%- set outcome_months = trust_index.months_in_window(var('outcome_start'), var('outcome_end')) %}
{#- The revenue baseline is the customer's ARPU on the reference date: the arpu_3m feature's definition. -#}
{%- set baseline_months = var('nrc_baseline_months') | int %}
{%- set baseline_start = trust_index.add_months(reference_date, -baseline_months) %}

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

outcome_revenue as (
    -- Bills issued inside the outcome window only: the outcome side reads nothing on or before the reference date.
    select customer_id, product, sum({{ trust_index.exact_measure('billed_amount') }}) as billed
    from {{ ref('stg_bills') }}
    where bill_date between {{ outcome_start }} and {{ outcome_end }}
    group by customer_id, product
),

baseline_revenue as (
    -- Bills of the {{ baseline_months }} months up to the reference date (what arpu_3m measures on that date):
    -- the baseline side reads nothing after it.
    select customer_id, product, sum({{ trust_index.exact_measure('billed_amount') }}) as billed
    from {{ ref('stg_bills') }}
    where bill_date > {{ baseline_start }} and bill_date <= {{ reference_date }}
    group by customer_id, product
),

revenue as (
    select
        population.cohort,
        population.customer_id,
        -- Months without a bill (e.g. after churn) count as 0.
        coalesce(outcome_revenue.billed, 0) / {{ outcome_months }}.0 as outcome_monthly_revenue,
        coalesce(baseline_revenue.billed, 0) / {{ baseline_months }}.0 as baseline_monthly_revenue
    from population
    left join outcome_revenue
        on outcome_revenue.customer_id = population.customer_id
        and outcome_revenue.product = population.cohort
    left join baseline_revenue
        on baseline_revenue.customer_id = population.customer_id
        and baseline_revenue.product = population.cohort
)

select
    population.cohort,
    population.customer_id,
    {{ reference_date }} as reference_date,
    coalesce(events_in_window.churned, 0) = 1 as is_churn,
    coalesce(events_in_window.recontracted, 0) = 1 as is_recontract,
    cast(revenue.outcome_monthly_revenue as {{ trust_index.type_double() }}) as outcome_monthly_revenue,
    cast(revenue.baseline_monthly_revenue as {{ trust_index.type_double() }}) as baseline_monthly_revenue,
    -- Net revenue change: revenue per month over the outcome window against the reference-date ARPU.
    cast(
        revenue.outcome_monthly_revenue - revenue.baseline_monthly_revenue as {{ trust_index.type_double() }}
    ) as revenue_change
from population
left join events_in_window
    on events_in_window.customer_id = population.customer_id
    and events_in_window.product = population.cohort
inner join revenue
    on revenue.customer_id = population.customer_id
    and revenue.cohort = population.cohort
