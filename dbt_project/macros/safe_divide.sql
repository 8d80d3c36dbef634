{#- Division that yields NULL instead of failing (BigQuery) or returning inf (DuckDB) when the divisor is 0. -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ trust_index.type_double() }}) / nullif(cast({{ denominator }} as {{ trust_index.type_double() }}), 0))
{%- endmacro %}
