-- Weekly usage of every product in one long table, in the units the features use: one row per product,
-- account (MSISDN for mobile, ICOMS account for TV and broadband) and usage week. `usage_volume` is the
-- product's headline volume whose trend the features follow (mobile data GB, TV viewing hours, broadband
-- download GB); the other measures are NULL where they do not apply to the product.
{% for product, staging in [('mobile', 'stg_mobile_usage_weekly'), ('tv', 'stg_tv_viewing_weekly'),
                            ('broadband', 'stg_broadband_usage_weekly')] -%}
{{ trust_index.weekly_usage(product, ref(staging)) }}
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
