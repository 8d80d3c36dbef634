{#
  The one definition of "holds the product on date D" against int_product_holdings: the subscription is
  live (started on or before D, not ended by D) and the interval of terms covers D. Used by
  customer_360_definition and outcome_labels so both see the same population.
#}
{% macro holding_on_date(holdings_alias, date_expr) -%}
    ({{ holdings_alias }}.valid_from <= {{ date_expr }}
        and ({{ holdings_alias }}.valid_to is null or {{ holdings_alias }}.valid_to > {{ date_expr }})
        and ({{ holdings_alias }}.end_date is null or {{ holdings_alias }}.end_date > {{ date_expr }}))
{%- endmacro %}
