{#
  The rows of a source relation, one per grain key: the most recently loaded one. Sources may deliver a row
  more than once (re-sent files, corrections); the latest load wins.
#}
{% macro latest_rows(relation, grain) -%}
    select *
    from (
        select
            src.*,
            row_number() over (partition by {{ grain | join(', ') }} order by loaded_at desc) as load_rank
        from {{ relation }} as src
    ) as ranked
    where load_rank = 1
{%- endmacro %}
