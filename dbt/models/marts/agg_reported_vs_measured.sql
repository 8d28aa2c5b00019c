-- Each current reported value (fct_reported_values) beside the warehouse's own count of the
-- same measure, area, period, group and counting, from the incident-level returns, with the
-- share of that span the warehouse holds returns for and the difference
-- (docs/analyst-guide.md, "Reported figures beside the warehouse's").
--
-- What the warehouse counts: incidents of looked-after children (fct_incident_groups) that
-- began in the period (the part COVERED_FROM/COVERED_TO say the figure covers). An
-- authority's are its own looked-after children's; a force's those reported to it; a region's
-- or country's those of its authorities (a child with no known authority: the force's area).
-- Missing measures count every incident not recorded as away (the police do not say which);
-- away measures those the council recorded as away. Children are counted once over the period
-- (each_child_once) or once per financial year and added up (yearly_sum).
with reported as (
    select * from {{ ref('fct_reported_values') }}
    where is_current_value
),

areas as (
    select * from {{ ref('int_reported_areas') }}
),

incidents as (
    select
        groups.incident_key,
        groups.child_id,
        groups.financial_year,
        facts.started_on,
        groups.responsible_authority_gss,
        facts.force_code,
        facts.police_submission_id is not null as reported_to_police,
        coalesce(authority.region_code, force.region_code) as region_code,
        coalesce(authority.country_gss, force.country_gss) as country_gss,
        groups.age_band,
        groups.sex,
        groups.missing_or_away = 'Away from placement without authorisation' as is_away
    from {{ ref('fct_incident_groups') }} as groups
    inner join {{ ref('fct_missing_incidents') }} as facts
        on facts.incident_key = groups.incident_key
    left join areas as authority on authority.area_gss = groups.responsible_authority_gss
    left join areas as force on force.area_gss = facts.force_code
    where groups.looked_after_group = 'Looked after'
),

-- The span each value is measured over: the part of the period it covers. A period known
-- only to the year is measured over its widest and its narrowest reading.
spans as (
    select
        value_key, area_type, area_gss, measure, counting, age_band, sex,
        coalesce(covered_from, period_start) as widest_start,
        coalesce(covered_to, period_end) as widest_end,
        coalesce(covered_from, period_start_latest) as narrowest_start,
        coalesce(covered_to, period_end_earliest) as narrowest_end,
        measure in ('children_away', 'away_incidents') as counts_away
    from reported
),

-- One branch per kind of area, each joined on the area's code: a join on a CASE would compare
-- every reported value with every incident in the nation.
{% set area_of_incident = [('authority', 'incidents.responsible_authority_gss', 'true'),
                           ('force', 'incidents.force_code', 'incidents.reported_to_police'),
                           ('region', 'incidents.region_code', 'true'),
                           ('country', 'incidents.country_gss', 'true'),
                           ('national', "'K04000001'", 'true')] %}
matched as (
    {% for area_type, area_code, also in area_of_incident %}
    select
        spans.value_key,
        incidents.child_id,
        incidents.financial_year,
        incidents.started_on between spans.narrowest_start and spans.narrowest_end
            as in_narrowest
    from spans
    inner join incidents
        on {{ area_code }} = spans.area_gss
        and incidents.is_away = spans.counts_away
        and incidents.started_on between spans.widest_start and spans.widest_end
        and (spans.age_band is null or incidents.age_band = spans.age_band)
        and (spans.sex is null or incidents.sex = spans.sex)
        and {{ also }}
    where spans.area_type = '{{ area_type }}'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- Each child's incidents in the span, and in each financial year of it.
per_child as (
    select value_key, child_id, count(*) as incidents,
           count(*) filter (where in_narrowest) as incidents_narrowest
    from matched
    group by value_key, child_id
),

per_child_year as (
    select value_key, financial_year, child_id, count(*) as incidents,
           count(*) filter (where in_narrowest) as incidents_narrowest
    from matched
    group by value_key, financial_year, child_id
),

{% set thresholds = [('once', 1), ('twice', 2), ('three', 3)] %}
child_counts as (
    select
        value_key,
        {% for name, least in thresholds %}
        count(*) filter (where incidents >= {{ least }}) as children_{{ name }},
        count(*) filter (where incidents_narrowest >= {{ least }})
            as children_{{ name }}_narrowest,
        {% endfor %}
        sum(incidents) as incidents,
        sum(incidents_narrowest) as incidents_narrowest
    from per_child
    group by value_key
),

year_counts as (
    select
        value_key,
        {% for name, least in thresholds %}
        count(*) filter (where incidents >= {{ least }}) as yearly_{{ name }},
        count(*) filter (where incidents_narrowest >= {{ least }})
            as yearly_{{ name }}_narrowest{% if not loop.last %},{% endif %}
        {% endfor %}
    from per_child_year
    group by value_key
),

measured as (
    select
        spans.value_key,
        {% for suffix in ['', '_narrowest'] %}
        coalesce(case
            when spans.measure in ('missing_incidents', 'away_incidents')
                then counts.incidents{{ suffix }}
            when spans.counting = 'yearly_sum' then case spans.measure
                when 'children_missing_more_than_once' then year_counts.yearly_twice{{ suffix }}
                when 'children_missing_3_plus' then year_counts.yearly_three{{ suffix }}
                else year_counts.yearly_once{{ suffix }} end
            else case spans.measure
                when 'children_missing_more_than_once' then counts.children_twice{{ suffix }}
                when 'children_missing_3_plus' then counts.children_three{{ suffix }}
                else counts.children_once{{ suffix }} end
        end, 0)::bigint as measured{{ suffix }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from spans
    left join child_counts as counts on counts.value_key = spans.value_key
    left join year_counts on year_counts.value_key = spans.value_key
),

-- The returns the warehouse holds for the span: authority-years with a loaded council return
-- (for a force: months with a loaded police file), of those the area had in the span.
span_years as (
    select spans.value_key, periods.financial_year,
           min(periods.date_day) as year_start, max(periods.date_day) as year_end
    from spans
    inner join {{ ref('dim_periods') }} as periods
        on periods.date_day between spans.widest_start and spans.widest_end
    where spans.area_type <> 'force'
    group by spans.value_key, periods.financial_year
),

expected as (
    select span_years.value_key, span_years.financial_year as period,
           authorities.authority_gss as body
    from span_years
    inner join spans on spans.value_key = span_years.value_key
    inner join {{ ref('dim_authorities') }} as authorities
        on authorities.valid_from <= span_years.year_end
        and coalesce(authorities.valid_to, span_years.year_end) >= span_years.year_start
        and case spans.area_type
                when 'authority' then authorities.authority_gss = spans.area_gss
                when 'region' then authorities.region_code = spans.area_gss
                when 'country' then authorities.country
                    = case spans.area_gss when 'E92000001' then 'England' else 'Wales' end
                else true
            end
    union
    select distinct spans.value_key, periods.month_label, spans.area_gss
    from spans
    inner join {{ ref('dim_periods') }} as periods
        on periods.date_day between spans.widest_start and spans.widest_end
    where spans.area_type = 'force'
),

held as (
    select
        expected.value_key,
        count(*) as expected_returns,
        count(submissions.submission_id) as held_returns
    from expected
    left join {{ ref('stg_audit__submissions') }} as submissions
        on submissions.is_current
        and submissions.return_source in ('council', 'police')
        and submissions.authority_gss = expected.body
        and submissions.collection_year = expected.period
    group by expected.value_key
),

final as (
    select
        reported.value_key,
        reported.area_type,
        reported.area_gss,
        reported.area_name,
        reported.period_start,
        reported.period_end,
        reported.is_period_approximate,
        reported.covered_from,
        reported.covered_to,
        reported.measure,
        reported.counting,
        reported.age_band,
        reported.sex,
        reported.source_kind,
        reported.source_name,
        reported.is_preferred,
        reported.value_as_delivered,
        reported.value_lower as reported_lower,
        reported.value_upper as reported_upper,
        measured.measured,
        case when reported.is_period_approximate then measured.measured_narrowest end
            as measured_narrowest,
        coalesce(held.held_returns, 0) as returns_held,
        coalesce(held.expected_returns, 0) as returns_expected,
        round(coalesce(held.held_returns, 0)::numeric / nullif(held.expected_returns, 0), 3)
            as measured_coverage,
        -- How far the warehouse's count lies outside the reported interval (0: inside it).
        case
            when measured.measured < reported.value_lower
                then measured.measured - reported.value_lower
            when measured.measured > reported.value_upper
                then measured.measured - reported.value_upper
            else 0
        end as difference,
        measured.measured between reported.value_lower
            and coalesce(reported.value_upper, measured.measured) as measured_within_reported
    from reported
    inner join measured on measured.value_key = reported.value_key
    left join held on held.value_key = reported.value_key
)

select * from final
