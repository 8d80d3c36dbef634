-- Every bill with the two facts the billing features count, both known on the bill's own dates so no
-- later data can change them for a past snapshot:
--   is_late:       no payment cleared on or before the due date (payments after the due date do not help);
--   is_bill_shock: the amount is at least 1.3 x the mean of the same customer's three previous bills of the
--                  same product (bills with fewer than three predecessors are never a shock).
{{ trust_index.bill_facts(ref('stg_bills'), ref('stg_payments')) }}
