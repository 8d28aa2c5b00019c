{#- The measures every missing aggregate reports for a group of fct_missing_incidents rows
    (`incidents`, aliased), grouped by `keys`: incidents by source, distinct children (each
    child once in the group, however many authorities or forces saw them), children missing
    3 or more times in the group, and median durations. -#}
{% macro missing_summary(keys) -%}
    with per_child as (
        select
            {{ keys | join(', ') }},
            child_id,
            count(*) as incidents,
            bool_and(incident_source = 'council') as council_only,
            bool_and(incident_source = 'police') as police_only
        from incidents
        group by {{ keys | join(', ') }}, child_id
    ),

    children as (
        select
            {{ keys | join(', ') }},
            count(*) as distinct_children,
            count(*) filter (where council_only) as children_council_only,
            count(*) filter (where police_only) as children_police_only,
            count(*) filter (where not council_only and not police_only)
                as children_council_and_police,
            count(*) filter (where incidents >= 3) as children_missing_3_plus
        from per_child
        group by {{ keys | join(', ') }}
    ),

    counts as (
        select
            {{ keys | join(', ') }},
            count(*) as incidents,
            count(*) filter (where incident_source = 'council') as incidents_council_only,
            count(*) filter (where incident_source = 'police') as incidents_police_only,
            count(*) filter (where incident_source = 'both') as incidents_both,
            percentile_cont(0.5) within group (order by duration_days) as median_duration_days,
            percentile_cont(0.5) within group (order by duration_hours) as median_duration_hours
        from incidents
        group by {{ keys | join(', ') }}
    )

    select
        {% for key in keys %}counts.{{ key }}, {% endfor %}
        counts.incidents,
        counts.incidents_council_only,
        counts.incidents_police_only,
        counts.incidents_both,
        children.distinct_children,
        children.children_council_only,
        children.children_police_only,
        children.children_council_and_police,
        children.children_missing_3_plus,
        counts.median_duration_days,
        round(counts.median_duration_hours::numeric, 1) as median_duration_hours
    from counts
    inner join children using ({{ keys | join(', ') }})
{%- endmacro %}
