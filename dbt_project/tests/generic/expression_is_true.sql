{#-
  Every row of the model satisfies the boolean SQL expression. `columns`, when given, are what a failing row is
  reported by (its grain); without it every column is returned. On BigQuery a query is billed for every column it
  names, so a test on a wide daily table that returned `*` read the whole partition to report a few keys.
-#}
{% test expression_is_true(model, expression, columns=none) %}

select {{ columns | join(', ') if columns else '*' }}
from {{ model }}
where not ({{ expression }})

{% endtest %}
