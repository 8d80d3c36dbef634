-- One row per broadband account and usage week, latest load.
with source as (
    {{ trust_index.latest_rows(
        source('raw', 'broadband_usage_weekly'),
        grain=['icoms_account_uid', 'week_ending'],
        columns=['icoms_account_uid', 'week_ending', 'download_gb', 'upload_gb', 'avg_delivered_mbps', 'provisioned_mbps', 'loaded_at'],
    ) }}
)

select
    cast(icoms_account_uid as {{ trust_index.type_string() }}) as icoms_account_uid,
    cast(week_ending as date) as week_ending,
    cast(download_gb as {{ trust_index.type_double() }}) as download_gb,
    cast(upload_gb as {{ trust_index.type_double() }}) as upload_gb,
    cast(avg_delivered_mbps as {{ trust_index.type_double() }}) as avg_delivered_mbps,
    cast(provisioned_mbps as {{ trust_index.type_bigint() }}) as provisioned_mbps,
    loaded_at
from source
