{#
  A referential key in its canonical form (docs/source_contract.md). Source systems drift in how they write a
  key (padding, case, an international prefix on a phone number); compared as delivered, a drifted key joins
  nothing and the customer's usage, bills or contacts silently go missing from the features. Staging applies
  this to every column of these names, before the latest-load ranking, so a re-delivery under a drifted key is
  still the same row and every staged table carries the same form. Any other column passes through unchanged.
#}
{% macro canonical_key(column) -%}
    {%- set text = 'trim(cast(' ~ column ~ ' as ' ~ trust_index.type_string() ~ '))' -%}
    {%- if column == 'msisdn' -%}
        {#- International format without a prefix: E.164 numbers never start with 0, so a leading `00` can only
            be the international call prefix. A run of leading `+` goes too: a referential check that
            forgives `++44...` (as ltrim(x, '+') does) must not let through a key that joins nothing here. -#}
        regexp_replace({{ text }}, '^([+]+|00)', '')
    {%- elif column in ('customer_id', 'icoms_account_uid', 'bill_id') -%}
        upper({{ text }})
    {%- else -%}
        {{ column }}
    {%- endif -%}
{%- endmacro %}
