{#
  Date arithmetic that returns a DATE on every engine.

  `date_add(<date>, interval (<n>) <unit>)` is valid on both DuckDB and BigQuery; DuckDB returns a TIMESTAMP,
  hence the cast. dbt.dateadd is not used because on BigQuery it returns a DATETIME and on DuckDB it emits
  interval arithmetic.
#}
{% macro add_days(date_expr, days) -%}
    cast(date_add({{ date_expr }}, interval ({{ days }}) day) as date)
{%- endmacro %}

{% macro add_months(date_expr, months) -%}
    {#- Month arithmetic clamps to the month end on both engines (2025-05-31 - 3 months = 2025-02-28). -#}
    cast(date_add({{ date_expr }}, interval ({{ months }}) month) as date)
{%- endmacro %}

{% macro days_between(start_expr, end_expr) -%}
    {{ return(adapter.dispatch('days_between', 'trust_index')(start_expr, end_expr)) }}
{%- endmacro %}

{% macro default__days_between(start_expr, end_expr) -%}
    {{ dbt.datediff(start_expr, end_expr, 'day') }}
{%- endmacro %}

{#- dbt-duckdb's datediff casts with `::timestamp`; date_diff on dates is exact and transpiles cleanly. -#}
{% macro duckdb__days_between(start_expr, end_expr) -%}
    date_diff('day', {{ start_expr }}, {{ end_expr }})
{%- endmacro %}

{% macro bigquery__days_between(start_expr, end_expr) -%}
    date_diff({{ end_expr }}, {{ start_expr }}, day)
{%- endmacro %}

{% macro months_between(start_expr, end_expr) -%}
    {#-
      Fractional months from start to end (negative when end is before start): days / 30.4375, the mean
      Gregorian month, rounded to 2 decimals so the value does not depend on floating-point noise.
    -#}
    round(cast({{ trust_index.days_between(start_expr, end_expr) }} as {{ trust_index.type_double() }}) / 30.4375, 2)
{%- endmacro %}

{% macro in_trailing_days(date_expr, as_of_expr, days) -%}
    {#- True when date_expr lies in the `days` days ending on as_of (inclusive), i.e. (as_of - days, as_of]. -#}
    ({{ date_expr }} > {{ trust_index.add_days(as_of_expr, -days) }} and {{ date_expr }} <= {{ as_of_expr }})
{%- endmacro %}

{% macro date_literal(iso_date) -%}
    {#- A DATE literal from an ISO string var; refuses anything else so a typo fails at compile time. -#}
    {%- set parsed = trust_index.parse_iso_date(iso_date) -%}
    cast('{{ parsed.isoformat() }}' as date)
{%- endmacro %}

{% macro parse_iso_date(value) -%}
    {%- set text = (value | string) | trim -%}
    {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {{ exceptions.raise_compiler_error("Expected an ISO date (YYYY-MM-DD), got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(modules.datetime.datetime.strptime(text, '%Y-%m-%d').date()) }}
{%- endmacro %}

{% macro months_in_window(start_iso, end_iso) -%}
    {#- Number of calendar months touched by [start, end], computed at compile time (6 for Aug..Jan). -#}
    {%- set s = trust_index.parse_iso_date(start_iso) -%}
    {%- set e = trust_index.parse_iso_date(end_iso) -%}
    {{ return((e.year - s.year) * 12 + e.month - s.month + 1) }}
{%- endmacro %}
