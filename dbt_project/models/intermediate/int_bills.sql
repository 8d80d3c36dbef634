-- Every bill with the two facts the billing features count, both known on the bill's own dates so no
-- later data can change them for a past snapshot:
--   is_late:       no payment cleared on or before the due date (payments after the due date do not help);
--   is_bill_shock: the amount is at least 1.3 x the mean of the same customer's three previous bills of the
--                  same product (bills with fewer than three predecessors are never a shock).
with bills as (
    select
        bill_id,
        customer_id,
        product,
        bill_date,
        due_date,
        billed_amount,
        row_number() over (partition by customer_id, product order by bill_date, bill_id) as bill_seq
    from {{ ref('stg_bills') }}
),

first_payment as (
    select bill_id, min(paid_date) as first_paid_date
    from {{ ref('stg_payments') }}
    group by bill_id
),

previous_bills as (
    -- A self-join on the sequence number rather than a framed window average: the frame syntax and its
    -- null ordering differ between engines.
    select
        b.bill_id,
        avg({{ trust_index.exact_measure('p.billed_amount') }}) as previous_3_mean,
        count(*) as previous_bills
    from bills as b
    inner join bills as p
        on p.customer_id = b.customer_id
        and p.product = b.product
        and p.bill_seq between b.bill_seq - 3 and b.bill_seq - 1
    group by b.bill_id
)

select
    b.bill_id,
    b.customer_id,
    b.product,
    b.bill_date,
    b.due_date,
    b.billed_amount,
    fp.first_paid_date,
    (fp.first_paid_date is null or fp.first_paid_date > b.due_date) as is_late,
    pb.previous_3_mean,
    coalesce(pb.previous_bills = 3 and b.billed_amount >= 1.3 * pb.previous_3_mean, false) as is_bill_shock
from bills as b
left join first_payment as fp
    on fp.bill_id = b.bill_id
left join previous_bills as pb
    on pb.bill_id = b.bill_id
