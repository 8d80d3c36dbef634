{#
  dbt's test `where` config, plus one placeholder: `__snapshot_window__` restricts a test to the snapshot
  dates of the window being built (macro window_bound). dbt_project.yml sets it for the tests of the
  daily models, which could not use var() there (it is rendered before project vars exist).
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__snapshot_window__' in where -%}
        {%- set where = where | replace('__snapshot_window__', trust_index.snapshot_window_filter('snapshot_date')) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
