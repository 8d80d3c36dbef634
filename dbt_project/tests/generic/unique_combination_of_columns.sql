{#
  The combination of columns is unique in the model: no two rows share the same values in all of them.
  Used for the grain of every table keyed by more than one column (e.g. snapshot_date + customer_id).
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set columns_csv = combination_of_columns | join(', ') -%}

select
    {{ columns_csv }},
    count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
