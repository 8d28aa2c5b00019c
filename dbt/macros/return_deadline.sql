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

{#- The day the warehouse began collecting returns: var collection_started (the setting of the
    same name, passed by the nightly run when set) or else the UK day of the first submission
    received (`received_at` of the relation given). A year whose deadline fell before it was
    backfilled: never late, never overdue. mfc.cross_submission says the same for the gate. -#}
{% macro collection_started(submissions) -%}
    {%- if var('collection_started', none) -%} '{{ var("collection_started") }}'::date
    {%- else -%} (select min((received_at at time zone 'Europe/London')::date) from {{ submissions }})
    {%- endif -%}
{%- endmacro %}
