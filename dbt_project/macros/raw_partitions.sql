{#
  Constant bounds on the partition column of a raw event table, covering every row some snapshot date of the
  window being built can use: the days (window start - look-back, window end]. The bounds are literals,
  computed here from window_bound, because BigQuery prunes partitions only on a filter it can evaluate before
  reading: a bound relative to each row's snapshot date, in a join condition or in a correlated expression,
  makes it read every partition. The partition columns are those of the source contract
  (synthetic_telco/raw_schema.py, partition_by); tests/dbt/test_partition_pruning.py checks every daily
  model against it.

  The look-backs, in days, are the longest trailing window a daily model applies to the table:
    usage weeks      112: the features' 16 usage weeks (week_ending in (D - 112, D]).
    outages           28: outage minutes of the 28 days ending on D.
    fault tickets,    90: tickets, contacts and complaints of the 90 days ending on D.
    care contacts
    bills            366: the billing features read the bills issued in the 6 months ending on D or due in the
                          180 days ending on D, and a bill shock compares a bill with the three bills of the
                          same product before it; with monthly bills those lie within the 9 months before D.
                          A year leaves three more months for a bill due long after it was issued or a gap in
                          a customer's billing.
    payments         240: a bill counts as late when no payment cleared by its due date, and the bills counted
                          are due in the 180 days ending on D. Payments clear against issued bills, and a bill
                          is due at most 60 days after it was issued (source contract, MAX_DAYS_BILL_TO_DUE,
                          checked by the gate), so every payment that can clear such a bill by its due date
                          cleared in the 240 days ending on D; a later one cannot make it on time.

  Filtering before the latest-load deduplication (macro latest_rows) is exact for the usage tables:
  week_ending is part of their grain, so every delivery of a week passes or fails together. The other tables'
  grain is an id (bill_id, payment_id, contact_id, ticket_id, outage_id) and the partition column is the event's
  own date, which the source contract says a re-delivery keeps (docs/source_contract.md): a correction re-sends
  the event with its date. A re-delivery that moved an event to another date would leave its old copy in the
  old partition, and a window holding only the old date would count the stale copy.
#}
{% macro raw_partition_bound(table) -%}
    {%- set lookbacks = {
        'mobile_usage_weekly': ('week_ending', 'date', 112),
        'tv_viewing_weekly': ('week_ending', 'date', 112),
        'broadband_usage_weekly': ('week_ending', 'date', 112),
        'network_outages': ('start_ts', 'timestamp', 28),
        'fault_tickets': ('opened_ts', 'timestamp', 90),
        'care_contacts': ('contact_ts', 'timestamp', 90),
        'bills': ('bill_date', 'date', 366),
        'payments': ('paid_date', 'date', 240),
    } -%}
    {%- if table not in lookbacks -%}
        {{ exceptions.raise_compiler_error("raw table " ~ table ~ " has no partition bound") }}
    {%- endif -%}
    {%- set column, kind, days = lookbacks[table] -%}
    {%- set day = modules.datetime.timedelta(days=1) -%}
    {%- set first = trust_index.parse_iso_date(trust_index.window_bound('start_date')) - day * (days - 1) -%}
    {%- set last = trust_index.parse_iso_date(trust_index.window_bound('end_date')) -%}
    {%- if kind == 'date' -%}
        {{ column }} >= cast('{{ first.isoformat() }}' as date) and {{ column }} <= cast('{{ last.isoformat() }}' as date)
    {%- else -%}
        {#- A timestamp's calendar date is in [first, last] exactly when the timestamp is in [first, last + 1). -#}
        {{ column }} >= cast('{{ first.isoformat() }} 00:00:00' as timestamp)
            and {{ column }} < cast('{{ (last + day).isoformat() }} 00:00:00' as timestamp)
    {%- endif -%}
{%- endmacro %}
