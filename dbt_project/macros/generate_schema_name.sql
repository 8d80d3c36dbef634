{#
  Custom schema names are used literally (staging, intermediate, analytics) instead of dbt's default
  "<target schema>_<custom>", so the published tables keep the names other teams read (spec section 7).
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
