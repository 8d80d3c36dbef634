{#
  Config shared by the daily (snapshot_date-partitioned) models. Each run builds every snapshot date of the
  window start_date..end_date (macro window_bound) and replaces exactly those dates in the table:
    - DuckDB: delete+insert keyed on snapshot_date;
    - BigQuery: dbt-bigquery has no delete+insert; insert_overwrite on the day-partitioned table replaces
      the same dates (the partitions present in the new rows).
#}
{% macro daily_model_config() -%}
    {%- set cfg = {
        'materialized': 'incremental',
        'unique_key': 'snapshot_date',
        'on_schema_change': 'fail',
    } -%}
    {%- if target.type == 'bigquery' -%}
        {%- do cfg.update({
            'incremental_strategy': 'insert_overwrite',
            'partition_by': {'field': 'snapshot_date', 'data_type': 'date', 'granularity': 'day'},
            'cluster_by': ['customer_id'],
        }) -%}
    {%- else -%}
        {%- do cfg.update({'incremental_strategy': 'delete+insert'}) -%}
    {%- endif -%}
    {{ return(cfg) }}
{%- endmacro %}
