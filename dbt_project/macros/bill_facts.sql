{#
  Every bill with the two facts the billing features count (int_bills says what they mean). `bills` and
  `payments` are staged rows: the staging views for the whole history (int_bills), or the window's partitions
  of the raw tables, inlined by the daily model that reads them (int_common_features). One select without a
  WITH, so it nests as a subquery anywhere.
#}
{% macro bill_facts(bills, payments) -%}
    select
        b.bill_id,
        b.customer_id,
        b.product,
        b.bill_date,
        b.due_date,
        b.billed_amount,
        fp.first_paid_date,
        (fp.first_paid_date is null or fp.first_paid_date > b.due_date) as is_late,
        b.previous_3_mean,
        coalesce(b.previous_bills = 3 and b.billed_amount >= 1.3 * b.previous_3_mean, false) as is_bill_shock
    from (
        select
            bill_id,
            customer_id,
            product,
            bill_date,
            due_date,
            billed_amount,
            -- The same customer's up to three previous bills of the product, in bill order (bill_date, then
            -- bill_id). One sorted pass over the bills, where a self-join on a sequence number needed a second
            -- window and a join of every bill with three. NULLS FIRST is BigQuery's default and spelled out for
            -- DuckDB, whose default differs, so both engines order alike (neither column is NULL in staged
            -- bills anyway).
            {%- set previous_3 -%}
                partition by customer_id, product order by bill_date nulls first, bill_id nulls first
                rows between 3 preceding and 1 preceding
            {%- endset %}
            avg({{ trust_index.exact_measure('billed_amount') }}) over ({{ previous_3 }}) as previous_3_mean,
            count(*) over ({{ previous_3 }}) as previous_bills
        from {{ bills }} as staged_bills
    ) as b
    left join (
        select bill_id, min(paid_date) as first_paid_date
        from {{ payments }} as payments
        group by bill_id
    ) as fp
        on fp.bill_id = b.bill_id
{%- endmacro %}
