{#
  Every row of the model has a parent row in `to` with equal values in all of `columns` (a multi-column
  foreign key, e.g. (snapshot_date, customer_id) -> customer_360_definition). `to_condition` restricts the
  parent rows read; '__snapshot_window__' in it stands for the window being built, so a daily test does not
  scan the parent's whole history. An orphan row is reported by its key columns only: on BigQuery a query is
  billed for every column it names, and returning the child's `*` read the whole partition to report a key.
#}
{% test relationships_on_columns(model, to, columns, to_condition=none) %}
{%- if to_condition -%}
    {%- set to_condition = to_condition | replace('__snapshot_window__', trust_index.snapshot_window_filter('snapshot_date')) -%}
{%- endif %}

select {% for column in columns %}child.{{ column }}{% if not loop.last %}, {% endif %}{% endfor %}
from (select {{ columns | join(', ') }} from {{ model }}) as child
left join (
    select distinct {{ columns | join(', ') }}
    from {{ to }}
    {% if to_condition %}where {{ to_condition }}{% endif %}
) as parent
    on {% for column in columns %}child.{{ column }} = parent.{{ column }}{% if not loop.last %} and {% endif %}{% endfor %}
where parent.{{ columns[0] }} is null

{% endtest %}
