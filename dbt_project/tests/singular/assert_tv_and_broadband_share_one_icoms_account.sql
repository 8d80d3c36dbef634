-- customer_360_definition carries one icoms_account_uid per customer, and the TV and broadband features read
-- usage through it: a customer whose TV and broadband sit on different ICOMS accounts would get the wrong
-- usage for one of them. The source contract says they share the account; warn if a delivery breaks that.
{{ config(severity='warn') }}

select customer_id
from {{ ref('int_subscriptions') }}
where product in ('tv', 'broadband')
group by customer_id
having count(distinct account_id) > 1
