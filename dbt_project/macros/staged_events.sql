{#
  The staging of the raw event tables the daily models read, one macro per table. The staging view of the same
  name calls it unbounded (every delivered row: the whole history); the daily models call it with bounded=true,
  and then the rows are limited to the window's partitions (macro raw_partition_bound) before the latest-load
  deduplication. Both paths share this one definition of the columns, casts and normalisation.
#}

{% macro staged_mobile_usage_weekly(bounded=false) -%}
    {#- One row per mobile line and usage week, latest load. -#}
    select
        cast(msisdn as {{ trust_index.type_string() }}) as msisdn,
        cast(week_ending as date) as week_ending,
        cast(data_mb as {{ trust_index.type_double() }}) as data_mb,
        cast(voice_minutes as {{ trust_index.type_double() }}) as voice_minutes,
        cast(calls as {{ trust_index.type_bigint() }}) as calls_attempted,
        cast(dropped_calls as {{ trust_index.type_bigint() }}) as dropped_calls,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'mobile_usage_weekly'),
            grain=['msisdn', 'week_ending'],
            columns=['msisdn', 'week_ending', 'data_mb', 'voice_minutes', 'calls', 'dropped_calls', 'loaded_at'],
            where=trust_index.raw_partition_bound('mobile_usage_weekly') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_tv_viewing_weekly(bounded=false) -%}
    {#- One row per TV account and viewing week, latest load. -#}
    select
        cast(icoms_account_uid as {{ trust_index.type_string() }}) as icoms_account_uid,
        cast(week_ending as date) as week_ending,
        cast(viewing_minutes as {{ trust_index.type_double() }}) as viewing_minutes,
        cast(active_days as {{ trust_index.type_bigint() }}) as active_days,
        cast(buffering_events as {{ trust_index.type_bigint() }}) as buffering_events,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'tv_viewing_weekly'),
            grain=['icoms_account_uid', 'week_ending'],
            columns=['icoms_account_uid', 'week_ending', 'viewing_minutes', 'active_days', 'buffering_events', 'loaded_at'],
            where=trust_index.raw_partition_bound('tv_viewing_weekly') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_broadband_usage_weekly(bounded=false) -%}
    {#- One row per broadband account and usage week, latest load. -#}
    select
        cast(icoms_account_uid as {{ trust_index.type_string() }}) as icoms_account_uid,
        cast(week_ending as date) as week_ending,
        cast(download_gb as {{ trust_index.type_double() }}) as download_gb,
        cast(upload_gb as {{ trust_index.type_double() }}) as upload_gb,
        cast(avg_delivered_mbps as {{ trust_index.type_double() }}) as avg_delivered_mbps,
        cast(provisioned_mbps as {{ trust_index.type_bigint() }}) as provisioned_mbps,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'broadband_usage_weekly'),
            grain=['icoms_account_uid', 'week_ending'],
            columns=['icoms_account_uid', 'week_ending', 'download_gb', 'upload_gb', 'avg_delivered_mbps', 'provisioned_mbps', 'loaded_at'],
            where=trust_index.raw_partition_bound('broadband_usage_weekly') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_bills(bounded=false) -%}
    {#- One row per bill, latest load. -#}
    select
        cast(bill_id as {{ trust_index.type_string() }}) as bill_id,
        cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
        lower(trim(product)) as product,
        cast(bill_date as date) as bill_date,
        cast(due_date as date) as due_date,
        cast(amount as {{ trust_index.type_double() }}) as billed_amount,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'bills'),
            grain=['bill_id'],
            columns=['bill_id', 'customer_id', 'product', 'bill_date', 'due_date', 'amount', 'loaded_at'],
            where=trust_index.raw_partition_bound('bills') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_payments(bounded=false, paid_only=false) -%}
    {#- One row per payment, latest load. paid_only: the payment id, the bill paid and when (all a daily model's
        bill facts read), so a daily run on BigQuery is billed for 50 of the 68 bytes of a payment row
        (docs/scaling.md); the staging view keeps every column. -#}
    {%- set columns = ['payment_id', 'bill_id', 'paid_date', 'loaded_at'] if paid_only
        else ['payment_id', 'bill_id', 'customer_id', 'paid_date', 'amount', 'loaded_at'] %}
    select
        cast(payment_id as {{ trust_index.type_string() }}) as payment_id,
        cast(bill_id as {{ trust_index.type_string() }}) as bill_id,
        {%- if not paid_only %}
        cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
        {%- endif %}
        cast(paid_date as date) as paid_date,
        {%- if not paid_only %}
        cast(amount as {{ trust_index.type_double() }}) as paid_amount,
        {%- endif %}
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'payments'),
            grain=['payment_id'],
            columns=columns,
            where=trust_index.raw_partition_bound('payments') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_care_contacts(bounded=false) -%}
    {#- One row per care contact, latest load; contact_date is the UTC calendar date of the contact. -#}
    select
        cast(contact_id as {{ trust_index.type_string() }}) as contact_id,
        cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
        lower(trim(product)) as product,
        contact_ts as contacted_at,
        cast(contact_ts as date) as contact_date,
        lower(trim(channel)) as channel,
        lower(trim(reason)) as reason,
        coalesce(cast(is_complaint as {{ trust_index.type_boolean() }}), false) as is_complaint,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'care_contacts'),
            grain=['contact_id'],
            columns=['contact_id', 'customer_id', 'product', 'contact_ts', 'channel', 'reason', 'is_complaint', 'loaded_at'],
            where=trust_index.raw_partition_bound('care_contacts') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_fault_tickets(bounded=false) -%}
    {#- One row per fault ticket, latest load; opened_date is the UTC calendar date the ticket was opened. -#}
    select
        cast(ticket_id as {{ trust_index.type_string() }}) as ticket_id,
        cast(customer_id as {{ trust_index.type_string() }}) as customer_id,
        lower(trim(product)) as product,
        opened_ts as opened_at,
        cast(opened_ts as date) as opened_date,
        resolved_ts as resolved_at,
        lower(trim(fault_type)) as fault_type,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'fault_tickets'),
            grain=['ticket_id'],
            columns=['ticket_id', 'customer_id', 'product', 'opened_ts', 'resolved_ts', 'fault_type', 'loaded_at'],
            where=trust_index.raw_partition_bound('fault_tickets') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}

{% macro staged_network_outages(bounded=false) -%}
    {#- One row per network outage, latest load; started_date is the UTC calendar date the outage started. network_area is NULL for an outage of the whole region. -#}
    select
        cast(outage_id as {{ trust_index.type_string() }}) as outage_id,
        lower(trim(region)) as region,
        lower(trim(network_area)) as network_area,
        lower(trim(product)) as product,
        start_ts as started_at,
        cast(start_ts as date) as started_date,
        cast(duration_minutes as {{ trust_index.type_double() }}) as duration_minutes,
        loaded_at
    from (
        {{ trust_index.latest_rows(
            source('raw', 'network_outages'),
            grain=['outage_id'],
            columns=['outage_id', 'region', 'network_area', 'product', 'start_ts', 'duration_minutes', 'loaded_at'],
            where=trust_index.raw_partition_bound('network_outages') if bounded else none,
        ) }}
    ) as source
{%- endmacro %}
