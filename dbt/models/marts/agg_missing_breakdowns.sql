-- Incidents and distinct children by financial year, geography and each published breakdown
-- (fct_incident_groups), in one long table: a row per (year, geography, breakdown, group).
-- Geographies: each responsible authority, each region, England, Wales, and England and Wales;
-- an incident with no responsible authority counts in its force's region and country. A child
-- is counted once per group of a geography: in a breakdown of incidents (age band, placement,
-- placed, duration, missing or away, recorded by) a child with incidents in several groups is
-- in each, so only the incidents add up to the total; the breakdowns of children (sex,
-- ethnicity, repeat band, looked after) add up in both. The 'Total' rows carry the looked-after population of the
-- councils' returns (headers) and the rates per 1,000 looked-after children.
with groups as (
    select * from {{ ref('fct_incident_groups') }}
),

authorities as (
    select * from {{ ref('dim_authorities') }}
),

force_areas as (
    select pfa_code, min(region_code) as region_code, min(country) as country
    from authorities
    group by 1
),

placed as (
    select
        groups.*,
        coalesce(authorities.region_code, force_areas.region_code) as region_code,
        case coalesce(authorities.country, force_areas.country)
            when 'England' then 'E92000001' when 'Wales' then 'W92000004'
        end as country_code
    from groups
    left join authorities on authorities.authority_gss = groups.responsible_authority_gss
    left join force_areas on force_areas.pfa_code = groups.force_code
),

-- Each incident once in every geography it counts in.
located as (
    select geography.geographic_level, geography.area_code, placed.*
    from placed
    cross join lateral (
        values ('Local authority', placed.responsible_authority_gss),
               -- Wales has no regions (its "region" in the register is Wales itself).
               ('Regional', case when placed.region_code like 'E12%' then placed.region_code end),
               ('National', placed.country_code),
               ('National', case when placed.country_code is not null then 'K04000001' end)
    ) as geography (geographic_level, area_code)
    where geography.area_code is not null
),

-- How many times each child went missing in the geography and year.
repeats as (
    select geographic_level, area_code, financial_year, child_id,
           case
               when count(*) = 1 then '1'
               when count(*) = 2 then '2'
               when count(*) <= 5 then '3 to 5'
               when count(*) <= 10 then '6 to 10'
               else '11 or more'
           end as repeat_band
    from located
    group by 1, 2, 3, 4
),

long as (
    select located.geographic_level, located.area_code, located.financial_year,
           located.child_id, located.looked_after, breakdown.breakdown, breakdown.group_name
    from located
    inner join repeats using (geographic_level, area_code, financial_year, child_id)
    cross join lateral (
        values ('Total', 'Total'),
               ('Age band', located.age_band),
               ('Sex', located.sex),
               ('Ethnicity group', located.ethnicity_group),
               ('Placement type', located.placement_group),
               ('Placed', located.placed),
               ('Duration', located.duration_band),
               ('Repeat band', repeats.repeat_band),
               ('Missing or away', located.missing_or_away),
               ('Looked after', located.looked_after_group),
               ('Recorded by', located.recorded_by)
    ) as breakdown (breakdown, group_name)
),

-- Children first (one row each per group), then the group: two cheap groupings rather than a
-- count(distinct) over tens of millions of rows.
per_child as (
    select geographic_level, area_code, financial_year, breakdown, group_name, child_id,
           bool_or(looked_after) as looked_after, count(*) as incidents
    from long
    group by 1, 2, 3, 4, 5, 6
),

counts as (
    select geographic_level, area_code, financial_year, breakdown, group_name,
           sum(incidents)::bigint as incidents,
           count(*) as distinct_children,
           count(*) filter (where looked_after) as looked_after_children_missing,
           coalesce(sum(incidents) filter (where looked_after), 0)::bigint
               as looked_after_incidents
    from per_child
    group by 1, 2, 3, 4, 5
),

-- The children each council returned as looked after in the year (its current return's
-- header), added up over a region or country as DfE adds its authorities' figures.
looked_after_by_authority as (
    select submissions.authority_gss, submissions.collection_year,
           count(distinct headers.child_key) as looked_after_children
    from {{ ref('stg_council__headers') }} as headers
    inner join {{ ref('stg_audit__submissions') }} as submissions
        on submissions.submission_id = headers.submission_id
    where submissions.is_current and submissions.return_source = 'council'
    group by 1, 2
),

looked_after as (
    select geography.geographic_level, geography.area_code,
           looked_after_by_authority.collection_year as financial_year,
           sum(looked_after_by_authority.looked_after_children)::bigint as looked_after_children
    from looked_after_by_authority
    inner join authorities on authorities.authority_gss = looked_after_by_authority.authority_gss
    cross join lateral (
        values ('Local authority', authorities.authority_gss),
               ('Regional', case when authorities.region_code like 'E12%'
                                 then authorities.region_code end),
               ('National', case authorities.country when 'England' then 'E92000001'
                                                     when 'Wales' then 'W92000004' end),
               ('National', 'K04000001')
    ) as geography (geographic_level, area_code)
    where geography.area_code is not null
    group by 1, 2, 3
),

area_names as (
    select 'K04000001' as area_code, 'England and Wales' as area_name
    union all select 'E92000001', 'England'
    union all select 'W92000004', 'Wales'
    union all select region_code, region_name from {{ ref('regions') }}
    where region_code like 'E12%'
    union all select authority_gss, authority_name from authorities
),

final as (
    select
        counts.financial_year || ':' || counts.geographic_level || ':' || counts.area_code
            || ':' || counts.breakdown || ':' || counts.group_name as row_key,
        counts.financial_year,
        counts.geographic_level,
        counts.area_code,
        area_names.area_name,
        counts.breakdown,
        counts.group_name,
        counts.incidents,
        counts.distinct_children,
        counts.looked_after_children_missing,
        counts.looked_after_incidents,
        case when counts.breakdown = 'Total' then looked_after.looked_after_children end
            as looked_after_children,
        case when counts.breakdown = 'Total' and looked_after.looked_after_children > 0
            then round(1000.0 * counts.looked_after_children_missing
                       / looked_after.looked_after_children, 1)
        end as children_missing_per_1000_looked_after,
        case when counts.breakdown = 'Total' and looked_after.looked_after_children > 0
            then round(1000.0 * counts.looked_after_incidents
                       / looked_after.looked_after_children, 1)
        end as incidents_per_1000_looked_after
    from counts
    left join looked_after using (geographic_level, area_code, financial_year)
    left join area_names on area_names.area_code = counts.area_code
)

select * from final
