-- Every area a reported figure may be for (docs/returns/aggregate.md): authorities, police
-- forces, England's regions, the two countries and England and Wales, each with the region
-- and country it lies in, so figures for an area and for a part of it can be told apart.
with authorities as (
    select * from {{ ref('dim_authorities') }}
),

countries as (
    select 'England' as country, 'E92000001' as country_gss
    union all
    select 'Wales', 'W92000004'
),

-- A force area lies within one region and country: that of its authorities.
force_areas as (
    select pfa_code, min(region_code) as region_code, min(country) as country
    from authorities
    group by pfa_code
),

-- An authority's latest name (a GSS code keeps its name across boundary changes).
latest_authorities as (
    select distinct on (authority_gss) *
    from authorities
    order by authority_gss, valid_from desc
),

areas as (
    select
        authority_gss as area_gss, 'authority' as area_type, authority_name as area_name,
        country, case when region_code like 'E12%' then region_code end as region_code
    from latest_authorities
    union all
    select forces.pfa_code, 'force', forces.force_name, forces.country, force_areas.region_code
    from {{ ref('dim_police_forces') }} as forces
    left join force_areas on force_areas.pfa_code = forces.pfa_code
    union all
    select region_code, 'region', region_name, country, region_code
    from {{ ref('regions') }}
    where region_code like 'E12%'
    union all
    select country_gss, 'country', country, country, null from countries
    union all
    select 'K04000001', 'national', 'England and Wales', null, null
),

final as (
    select
        areas.area_gss,
        areas.area_type,
        areas.area_name,
        coalesce(areas.country, 'England and Wales') as country,
        areas.region_code,
        countries.country_gss
    from areas
    left join countries on countries.country = areas.country
)

select * from final
