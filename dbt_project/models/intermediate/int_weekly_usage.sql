-- Weekly usage of every product in one long table, in the units the features use: one row per product,
-- account (MSISDN for mobile, ICOMS account for TV and broadband) and usage week. `usage_volume` is the
-- product's headline volume whose trend the features follow (mobile data GB, TV viewing hours, broadband
-- download GB); the other measures are NULL where they do not apply to the product.
with mobile as (
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
    from {{ ref('stg_mobile_usage_weekly') }}
),

tv as (
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
    from {{ ref('stg_tv_viewing_weekly') }}
),

broadband as (
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
    from {{ ref('stg_broadband_usage_weekly') }}
)

select * from mobile
union all
select * from tv
union all
select * from broadband
