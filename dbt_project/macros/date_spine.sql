{#
  The window the daily models build: the snapshot dates start_date .. end_date (inclusive), from macro
  window_bound below.

  snapshot_date_spine: every date of the window, one row each, as column `snapshot_date`.

  The day count is computed at compile time from the vars, and the rows come from cross-joined digit tables:
  plain SQL on every engine (no generate_series / generate_date_array), no warehouse round trip at compile time.
#}
{% macro snapshot_date_spine(start_iso=none, end_iso=none) -%}
    {%- set start = trust_index.parse_iso_date(start_iso or trust_index.window_bound('start_date')) -%}
    {%- set end = trust_index.parse_iso_date(end_iso or trust_index.window_bound('end_date')) -%}
    {%- set n_days = (end - start).days -%}
    {%- if n_days < 0 -%}
        {{ exceptions.raise_compiler_error("end_date " ~ end ~ " is before start_date " ~ start) }}
    {%- endif -%}
    {%- set n_digits = (n_days | string) | length -%}
    select {{ trust_index.add_days("cast('" ~ start.isoformat() ~ "' as date)", "day_offset") }} as snapshot_date
    from (
        select
            {%- for i in range(n_digits) %}
            d{{ i }}.digit * {{ 10 ** i }}{% if not loop.last %} +{% endif %}
            {%- endfor %} as day_offset
        from
            {%- for i in range(n_digits) %}
            (
                select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
                union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
            ) as d{{ i }}{% if not loop.last %} cross join{% endif %}
            {%- endfor %}
    ) as offsets
    where day_offset <= {{ n_days }}
{%- endmacro %}

{% macro window_bound(name) -%}
    {#-
      The first ('start_date') or last ('end_date') snapshot date of the window being built, as ISO text.
      Runs pass the window in the environment (TRUST_WINDOW_START_DATE, TRUST_WINDOW_END_DATE), read only when
      the SQL is compiled to be executed, never while dbt parses: the parsed project is then the same for every
      window and dbt's partial parsing holds (a window passed in --vars makes dbt re-parse the whole project on
      every run). Without them (a bare `dbt build`, dbt's unit tests) the var of that name.
    -#}
    {%- if execute -%}
        {{ return(env_var('TRUST_WINDOW_' ~ (name | upper), var(name))) }}
    {%- endif -%}
    {{ return(var(name)) }}
{%- endmacro %}

{% macro snapshot_window_filter(column) -%}
    {#- True for rows whose date column lies in the window being built. -#}
    {{ column }} between {{ trust_index.date_literal(trust_index.window_bound('start_date')) }}
        and {{ trust_index.date_literal(trust_index.window_bound('end_date')) }}
{%- endmacro %}

{% macro window_lookback_filter(column, days) -%}
    {#-
      Constant bounds around the trailing windows of every snapshot date being built: the column lies after
      start_date - days and on or before end_date. The per-date window still applies in the join; this bound
      lets the warehouse drop older rows while scanning (and, where the column is part of a staging view's
      grain, before its latest-load deduplication).
    -#}
    ({{ column }} > {{ trust_index.add_days(trust_index.date_literal(trust_index.window_bound('start_date')), -days) }}
        and {{ column }} <= {{ trust_index.date_literal(trust_index.window_bound('end_date')) }})
{%- endmacro %}
