{#
  No row of the model has a NULL in any of `columns`, checked in one query: one result row per column that has
  NULLs (column_name, null_rows). It stands for a not_null test per column on the daily tables, where each of
  those queries named its own column and snapshot_date (the window filter): BigQuery bills every column a query
  names, so N such tests read snapshot_date N times, this one reads each column once.
#}
{% test not_null_columns(model, columns) %}

with null_counts as (
    select
        {%- for column in columns %}
        count(*) - count({{ column }}) as nulls_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
)
{%- for column in columns %}
select '{{ column }}' as column_name, nulls_{{ loop.index }} as null_rows from null_counts where nulls_{{ loop.index }} > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}

{% endtest %}
