{#
  Config shared by the daily (snapshot_date-partitioned) models. Each run builds every snapshot date of the
  window start_date..end_date (macro window_bound) and replaces exactly those dates in the table:
    - DuckDB: delete+insert keyed on snapshot_date;
    - BigQuery: dbt-bigquery has no delete+insert; insert_overwrite on the day-partitioned table replaces
      the same dates (the partitions present in the new rows, read from the temporary table of the model's
      rows that on_schema_change 'fail' makes dbt create anyway). copy_partitions: each of those partitions is
      copied from the temporary table with a copy job, which BigQuery does not bill, instead of a MERGE that
      reads the whole temporary table; each copy replaces its partition atomically (WRITE_TRUNCATE), a
      multi-day window is one copy job per day. The enforced contract's column list, with the same partitioning
      and clustering, gives the temporary table exactly the target's schema, as a partition copy needs.
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
            'partition_by': {'field': 'snapshot_date', 'data_type': 'date', 'granularity': 'day',
                             'copy_partitions': true},
            'cluster_by': ['customer_id'],
        }) -%}
    {%- else -%}
        {%- do cfg.update({'incremental_strategy': 'delete+insert'}) -%}
    {%- endif -%}
    {{ return(cfg) }}
{%- endmacro %}
