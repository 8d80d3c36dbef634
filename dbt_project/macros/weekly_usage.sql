{#
  Weekly usage of one product in the long shape of int_weekly_usage (which says what the columns mean).
  `staged` is the product's staged usage rows: its staging view for the whole history (int_weekly_usage), or
  the window's partitions of the raw table, inlined by the feature model that reads them (usage_weeks_cte).
#}
{% macro weekly_usage(product, staged) -%}
    {%- if product == 'mobile' %}
    select
        'mobile' as product,
        msisdn as account_id,
        week_ending,
        data_mb / 1024.0 as usage_volume,
        data_mb / 1024.0 as data_gb,
        voice_minutes,
        calls_attempted,
        dropped_calls,
        cast(null as {{ trust_index.type_double() }}) as viewing_hours,
        cast(null as {{ trust_index.type_bigint() }}) as active_days,
        cast(null as {{ trust_index.type_bigint() }}) as buffering_events,
        cast(null as {{ trust_index.type_double() }}) as download_gb,
        cast(null as {{ trust_index.type_double() }}) as upload_gb,
        cast(null as {{ trust_index.type_double() }}) as avg_delivered_mbps,
        cast(null as {{ trust_index.type_bigint() }}) as provisioned_mbps
    from {{ staged }} as usage
    {%- elif product == 'tv' %}
    select
        'tv' as product,
        icoms_account_uid as account_id,
        week_ending,
        viewing_minutes / 60.0 as usage_volume,
        cast(null as {{ trust_index.type_double() }}) as data_gb,
        cast(null as {{ trust_index.type_double() }}) as voice_minutes,
        cast(null as {{ trust_index.type_bigint() }}) as calls_attempted,
        cast(null as {{ trust_index.type_bigint() }}) as dropped_calls,
        viewing_minutes / 60.0 as viewing_hours,
        active_days,
        buffering_events,
        cast(null as {{ trust_index.type_double() }}) as download_gb,
        cast(null as {{ trust_index.type_double() }}) as upload_gb,
        cast(null as {{ trust_index.type_double() }}) as avg_delivered_mbps,
        cast(null as {{ trust_index.type_bigint() }}) as provisioned_mbps
    from {{ staged }} as usage
    {%- elif product == 'broadband' %}
    select
        'broadband' as product,
        icoms_account_uid as account_id,
        week_ending,
        download_gb as usage_volume,
        cast(null as {{ trust_index.type_double() }}) as data_gb,
        cast(null as {{ trust_index.type_double() }}) as voice_minutes,
        cast(null as {{ trust_index.type_bigint() }}) as calls_attempted,
        cast(null as {{ trust_index.type_bigint() }}) as dropped_calls,
        cast(null as {{ trust_index.type_double() }}) as viewing_hours,
        cast(null as {{ trust_index.type_bigint() }}) as active_days,
        cast(null as {{ trust_index.type_bigint() }}) as buffering_events,
        download_gb,
        upload_gb,
        avg_delivered_mbps,
        provisioned_mbps
    from {{ staged }} as usage
    {%- else -%}
        {{ exceptions.raise_compiler_error("no weekly usage for product " ~ product) }}
    {%- endif %}
{%- endmacro %}
