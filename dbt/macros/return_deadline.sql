{#- The day a council return is due: 30 June after its collection year ends (`period_end`, the
    year's 31 March). The one statement of the rule in dbt; mfc.returns.council.deadline says
    the same for the gate. -#}
{% macro return_deadline(period_end) -%}
    make_date(extract(year from {{ period_end }})::integer, 6, 30)
{%- endmacro %}

{#- The day the dq marts judge "overdue" on: var dq_as_of (a date, for tests and reruns of a
    past day) or else today. -#}
{% macro dq_as_of() -%}
    {%- if var('dq_as_of', none) -%} '{{ var("dq_as_of") }}'::date {%- else -%} current_date {%- endif -%}
{%- endmacro %}
