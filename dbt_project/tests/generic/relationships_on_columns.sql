{#
  Every row of the model has a parent row in `to` with equal values in all of `columns` (a multi-column
  foreign key, e.g. (snapshot_date, customer_id) -> customer_360_definition). `to_condition` restricts the
  parent rows read; '__snapshot_window__' in it stands for the window being built, so a daily test does not
  scan the parent's whole history.
#}
{% test relationships_on_columns(model, to, columns, to_condition=none) %}
{%- if to_condition -%}
    {%- set to_condition = to_condition | replace('__snapshot_window__', trust_index.snapshot_window_filter('snapshot_date')) -%}
{%- endif %}

select child.*
from (select * from {{ model }}) as child
left join (
    select distinct {{ columns | join(', ') }}
    from {{ to }}
    {% if to_condition %}where {{ to_condition }}{% endif %}
) as parent
    on {% for column in columns %}child.{{ column }} = parent.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
where parent.{{ columns[0] }} is null

{% endtest %}
