-- Responsible authority x financial or calendar year: incidents from council and police returns
-- merged (council only, police only, both), distinct children, children missing 3+ times and
-- median durations. Incidents no authority is known for (children police saw that no council
-- returned) are in agg_missing_by_force_period and the area totals, not here.
with facts as (
    select * from {{ ref('fct_missing_incidents') }}
    where responsible_authority_gss is not null
),

incidents as (
    {% for period_type, period in [('financial_year', 'financial_year'),
                                    ('calendar_year', 'calendar_year::text')] %}
    select '{{ period_type }}' as period_type, {{ period }} as period,
           responsible_authority_gss as authority_gss, child_id, incident_source,
           duration_days, duration_hours
    from facts
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

summary as (
    {{ missing_summary(['period_type', 'period', 'authority_gss']) }}
),

final as (
    select
        summary.period_type || ':' || summary.period || ':' || summary.authority_gss as row_key,
        summary.*,
        authorities.authority_name,
        authorities.region_name,
        authorities.country
    from summary
    left join {{ ref('dim_authorities') }} as authorities
        on authorities.authority_gss = summary.authority_gss
)

select * from final
