{#
  ref() and source() without the catalog on DuckDB. dbt-duckdb names the catalog after the warehouse file's stem
  and would write it into every view's stored SQL ("warehouse"."raw"."customers"): a warehouse copied or
  renamed (TRUST_DUCKDB_PATH naming any file) then holds views that point at a catalog that no longer exists.
  Without it, a view resolves against the file it lives in. BigQuery keeps the project in every name.
#}
{% macro ref() -%}
    {%- do return(trust_index.without_duckdb_catalog(builtins.ref(*varargs, **kwargs))) -%}
{%- endmacro %}

{% macro source() -%}
    {%- do return(trust_index.without_duckdb_catalog(builtins.source(*varargs, **kwargs))) -%}
{%- endmacro %}

{% macro without_duckdb_catalog(relation) -%}
    {%- if target.type == 'duckdb' and relation is not none and relation.include is defined -%}
        {%- do return(relation.include(database=false)) -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
