{#
  Column types by name, so model SQL never spells an engine's type (DuckDB DOUBLE is BigQuery FLOAT64,
  and dbt.type_float() is a 4-byte REAL on DuckDB).
#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'trust_index')()) }}
{%- endmacro %}
{% macro default__type_double() -%}double{%- endmacro %}
{% macro bigquery__type_double() -%}float64{%- endmacro %}

{% macro type_string() -%}
    {{ return(adapter.dispatch('type_string', 'trust_index')()) }}
{%- endmacro %}
{% macro default__type_string() -%}varchar{%- endmacro %}
{% macro bigquery__type_string() -%}string{%- endmacro %}

{% macro type_bigint() -%}
    {{ return(adapter.dispatch('type_bigint', 'trust_index')()) }}
{%- endmacro %}
{% macro default__type_bigint() -%}bigint{%- endmacro %}
{% macro bigquery__type_bigint() -%}int64{%- endmacro %}

{% macro type_boolean() -%}
    {{ return(adapter.dispatch('type_boolean', 'trust_index')()) }}
{%- endmacro %}
{% macro default__type_boolean() -%}boolean{%- endmacro %}
{% macro bigquery__type_boolean() -%}bool{%- endmacro %}

{#
  Fixed-point for quantities that are summed or averaged. Floating-point sums depend on the order rows
  arrive in, which a parallel engine does not fix: re-building a day could then differ in the 15th digit.
  Rounding each value to 6 decimals and aggregating exactly makes every rebuild bit-identical.
#}
{% macro exact_measure(expr) -%}
    cast({{ expr }} as {{ trust_index.type_exact() }})
{%- endmacro %}

{% macro type_exact() -%}
    {{ return(adapter.dispatch('type_exact', 'trust_index')()) }}
{%- endmacro %}
{% macro default__type_exact() -%}decimal(18, 6){%- endmacro %}
{% macro bigquery__type_exact() -%}numeric{%- endmacro %}
