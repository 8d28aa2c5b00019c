-- England and Wales, each country and each region x financial or calendar year. A child is
-- counted once in an area however many of its authorities or forces saw them, so an area's
-- distinct_children is at most the sum over its authorities (analyst guide). An incident
-- belongs to the region of its responsible authority, else of the force it was reported to.
with facts as (
    select * from {{ ref('fct_missing_incidents') }}
),

authorities as (
    select * from {{ ref('dim_authorities') }}
),

-- Each force area lies within one region (and country): that of its authorities.
force_areas as (
    select pfa_code, min(region_code) as region_code, min(country) as country
    from authorities
    group by 1
),

placed as (
    select
        facts.*,
        coalesce(authorities.region_code, force_areas.region_code) as region_code,
        coalesce(authorities.country, force_areas.country) as country
    from facts
    left join authorities on authorities.authority_gss = facts.responsible_authority_gss
    left join force_areas on force_areas.pfa_code = facts.force_code
),

incidents as (
    {% set areas = [('national', "'K04000001'"),
                    ('country', "case country when 'England' then 'E92000001' "
                                ~ "when 'Wales' then 'W92000004' end"),
                    ('region', 'region_code')] %}
    {% set periods = [('financial_year', 'financial_year'),
                      ('calendar_year', 'calendar_year::text')] %}
    {% for area_type, area_code in areas %}
    {% set outer = loop %}
    {% for period_type, period in periods %}
    select '{{ area_type }}' as area_type, coalesce({{ area_code }}, 'unknown') as area_code,
           '{{ period_type }}' as period_type, {{ period }} as period,
           child_id, incident_source, duration_days, duration_hours
    from placed
    {% if not (outer.last and loop.last) %}union all{% endif %}
    {% endfor %}
    {% endfor %}
),

summary as (
    {{ missing_summary(['area_type', 'area_code', 'period_type', 'period']) }}
),

area_names as (
    select 'K04000001' as area_code, 'England and Wales' as area_name
    union select 'E92000001', 'England'
    union select 'W92000004', 'Wales'
    union select region_code, region_name from {{ ref('regions') }}
),

final as (
    select
        summary.area_type || ':' || coalesce(summary.area_code, 'unknown') || ':'
            || summary.period_type || ':' || summary.period as row_key,
        summary.*,
        coalesce(area_names.area_name, 'Not known') as area_name
    from summary
    left join area_names on area_names.area_code = summary.area_code
)

select * from final
