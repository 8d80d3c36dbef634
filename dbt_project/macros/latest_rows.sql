{#
  The rows of a source relation, one per grain key: the most recently loaded one. Sources may deliver a row
  more than once (re-sent files, corrections); the latest load wins.

  `columns` lists the source columns the model reads, and only those are selected. The contract allows extra
  columns, and `select *` next to a name defined here would let an extra column of the same name shadow it: a
  raw column called `load_rank` once made `where load_rank = 1` filter on the raw value and empty the view.

  Referential keys come out in their canonical form (canonical_key) before the ranking, so a re-delivery whose
  key drifted (` c0000001`, `+447700000001`) is still the same row and loses to the latest load.

  `where`, when given, filters the delivered rows before the ranking, right next to the table, which is the only
  place a partitioned warehouse can use it to skip partitions. Filtering before the ranking keeps the result of
  ranking everything and filtering afterwards only when every delivery of one grain key passes or fails alike:
  true when the filter is on a grain column (all deliveries of a key share its value), and for any other
  column only when re-deliveries never change it (macro raw_partition_bound says which case each table is).
#}
{% macro latest_rows(relation, grain, columns, where=none) -%}
    select
        {{ columns | join(',\n        ') }}
    from (
        select
            {{ columns | join(',\n            ') }},
            row_number() over (partition by {{ grain | join(', ') }} order by loaded_at desc) as load_rank
        from (
            select
                {%- for column in columns %}
                {%- set expression = trust_index.canonical_key(column) | trim %}
                {{ expression }}{{ ' as ' ~ column if expression != column }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ relation }}
            {%- if where %}
            where {{ where }}
            {%- endif %}
        ) as delivered
    ) as ranked
    where load_rank = 1
{%- endmacro %}
