-- Each incident of fct_missing_incidents in the groups DfE and the NCA publish by
-- (docs/analyst-guide.md, "Breakdowns"), each from the source that carries it: the age at the
-- start (council: from the date of birth the return gave, computed in raw; police: the age the
-- force reported), the child's sex and ethnicity (council header; police: sex only), the
-- placement at the start (the council episode it began in) and whether it lies in the child's
-- own authority, the duration, missing or away (council), looked after or not, and which
-- returns recorded it.
with facts as (
    select * from {{ ref('fct_missing_incidents') }}
),

council_periods as (
    select * from {{ ref('stg_council__missing_periods') }}
),

police_incidents as (
    select * from {{ ref('stg_police__incidents') }}
),

episodes as (
    select * from {{ ref('stg_council__episodes') }}
),

children as (
    select * from {{ ref('dim_children') }}
),

identities as (
    select * from {{ ref('int_identities') }}
),

headers as (
    select * from {{ ref('stg_council__headers') }}
),

-- A child's ethnicity: the code its most recent council return gave.
ethnicities as (
    select distinct on (identities.child_id)
        identities.child_id, headers.ethnicity_code
    from identities
    inner join headers on headers.child_key = identities.record_key
    where identities.record_source = 'council' and headers.ethnicity_code is not null
    order by identities.child_id, headers.submission_id desc
),

-- The authorities each postcode district lies in, as the returns show it: those returning at
-- least a tenth of the children living there (HOME_POST; a district can straddle two). The
-- warehouse holds no lookup of districts to authorities; a real one (ONS) would replace this.
district_authorities as (
    select district, authority_gss
    from (
        select episodes.home_postcode_district as district, submissions.authority_gss,
               count(distinct episodes.child_key) as children,
               sum(count(distinct episodes.child_key))
                   over (partition by episodes.home_postcode_district) as district_children
        from episodes
        inner join {{ ref('stg_audit__submissions') }} as submissions
            on submissions.submission_id = episodes.submission_id
        where submissions.is_current and submissions.return_source = 'council'
            and episodes.home_postcode_district is not null
        group by 1, 2
    ) as homes
    where 10 * children >= district_children
),

-- The episode each council period began in: the latest to start on or before that day.
placements as (
    select distinct on (facts.incident_key)
        facts.incident_key, episodes.placement_type_code,
        episodes.placement_postcode_district
    from facts
    inner join episodes
        on episodes.submission_id = facts.council_submission_id
        and episodes.child_key = facts.council_child_key
        and episodes.episode_start <= facts.started_on
    where facts.council_submission_id is not null
    order by facts.incident_key, episodes.episode_start desc, episodes.source_line_no desc
),

final as (
    select
        facts.incident_key,
        facts.child_id,
        facts.financial_year,
        facts.responsible_authority_gss,
        facts.force_code,
        children.looked_after,
        coalesce(council_periods.age_at_start, police_incidents.age_at_report) as age_at_start,
        case
            when coalesce(council_periods.age_at_start, police_incidents.age_at_report) is null
                then 'Not known'
            when coalesce(council_periods.age_at_start, police_incidents.age_at_report) < 1
                then 'Under 1'
            when coalesce(council_periods.age_at_start, police_incidents.age_at_report) <= 4
                then '1 to 4'
            when coalesce(council_periods.age_at_start, police_incidents.age_at_report) <= 9
                then '5 to 9'
            when coalesce(council_periods.age_at_start, police_incidents.age_at_report) <= 15
                then '10 to 15'
            else '16 and over'
        end as age_band,
        case children.sex_code when 'M' then 'Male' when 'F' then 'Female' else 'Not known' end
            as sex,
        coalesce(ethnicity_groups.ethnicity_group, 'Not known') as ethnicity_group,
        case
            when facts.council_submission_id is null then 'Not known (police record only)'
            else coalesce(placement_type_groups.placement_group, 'Not known')
        end as placement_group,
        case
            when facts.council_submission_id is null then 'Not known (police record only)'
            when placements.placement_postcode_district is null then 'Not known'
            -- A district where none of the returned children live is not the authority's own.
            when district_authorities.authority_gss is not null
                then 'Inside its own authority'
            else 'Outside its own authority'
        end as placed,
        case when children.looked_after then 'Looked after'
             else 'Not looked after (police record only)' end as looked_after_group,
        case
            when facts.is_open then 'Open at the end of the return'
            when facts.duration_hours < 24
                or (facts.duration_hours is null and facts.duration_days = 0)
                then 'Under 24 hours'
            when facts.duration_days <= 2 then '1 to 2 days'
            when facts.duration_days <= 7 then '3 to 7 days'
            else 'Over 7 days'
        end as duration_band,
        case facts.missing_type
            when 'missing' then 'Missing'
            when 'away' then 'Away from placement without authorisation'
            else 'Not known (police record only)'
        end as missing_or_away,
        case facts.incident_source
            when 'council' then 'Council return only'
            when 'police' then 'Police return only'
            else 'Council and police returns'
        end as recorded_by
    from facts
    inner join children on children.child_id = facts.child_id
    left join council_periods
        on council_periods.submission_id = facts.council_submission_id
        and council_periods.source_line_no = facts.council_line_no
    left join police_incidents
        on police_incidents.submission_id = facts.police_submission_id
        and police_incidents.source_line_no = facts.police_line_no
    left join ethnicities on ethnicities.child_id = facts.child_id
    left join {{ ref('ethnicity_groups') }} as ethnicity_groups
        on ethnicity_groups.ethnicity_code = ethnicities.ethnicity_code
    left join placements on placements.incident_key = facts.incident_key
    left join {{ ref('placement_type_groups') }} as placement_type_groups
        on placement_type_groups.placement_type_code = placements.placement_type_code
    left join district_authorities
        on district_authorities.district = placements.placement_postcode_district
        and district_authorities.authority_gss = facts.responsible_authority_gss
)

select * from final
