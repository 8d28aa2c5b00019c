-- Police force x financial or calendar year: the incidents reported to each force (police
-- only, or also returned by a council), the distinct children and how many of them councils
-- returned too. Council-only incidents have no force (a council return does not say where a
-- child went missing), so incidents_council_only is always 0 here.
with facts as (
    select * from {{ ref('fct_missing_incidents') }}
    where force_code is not null
),

incidents as (
    {% for period_type, period in [('financial_year', 'financial_year'),
                                    ('calendar_year', 'calendar_year::text')] %}
    select '{{ period_type }}' as period_type, {{ period }} as period, force_code, child_id,
           incident_source, duration_days, duration_hours
    from facts
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

summary as (
    {{ missing_summary(['period_type', 'period', 'force_code']) }}
),

final as (
    select
        summary.period_type || ':' || summary.period || ':' || summary.force_code as row_key,
        summary.*,
        forces.force_name,
        forces.country
    from summary
    left join {{ ref('dim_police_forces') }} as forces on forces.pfa_code = summary.force_code
)

select * from final
