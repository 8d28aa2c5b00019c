-- Reported values added up by measure, financial or calendar year, kind of area (authority,
-- force, region, country, national) and country: one value per cell, the preferred one
-- (fct_reported_values.is_preferred), for all the children (no age or sex group). Every total
-- is an interval [total_lower, total_upper]; total_upper is null when a value has no upper
-- bound. Only values whose period is exactly the year are added; others that overlap it are
-- named in not_aligned (a multi-year span is never added to its years). Each total says which
-- areas it includes, and how many of the areas in being that year it covers.
with reported as (
    select * from {{ ref('fct_reported_values') }}
    where is_preferred and not is_group
        and coalesce(counting, 'each_child_once') = 'each_child_once'
),

years as (
    select 'financial_year' as period_type, financial_year as period,
           min(date_day) as year_start, max(date_day) as year_end
    from {{ ref('dim_periods') }}
    group by financial_year
    union all
    select 'calendar_year', calendar_year::text, min(date_day), max(date_day)
    from {{ ref('dim_periods') }}
    group by calendar_year
),

overlapping as (
    select
        reported.*,
        years.period_type,
        years.period,
        years.year_start,
        years.year_end,
        reported.period_start = years.year_start and reported.period_end = years.year_end
            and not reported.is_period_approximate and not reported.is_partial_coverage
            as aligned
    from reported
    inner join years
        on reported.period_start <= years.year_end and reported.period_end >= years.year_start
),

-- How many areas of each kind were in being at some time in the year, per country: what
-- a complete set of authority (or force, or region) figures would hold.
in_being as (
    select years.period_type, years.period, 'authority' as area_type, authorities.country,
           count(distinct authorities.authority_gss) as areas
    from years
    inner join {{ ref('dim_authorities') }} as authorities
        on authorities.valid_from <= years.year_end
        and coalesce(authorities.valid_to, years.year_end) >= years.year_start
    group by 1, 2, 3, 4
    union all
    select years.period_type, years.period, 'force', forces.country, count(*)
    from years cross join {{ ref('dim_police_forces') }} as forces
    group by 1, 2, 3, 4
    union all
    select years.period_type, years.period, 'region', 'England', count(*)
    from years cross join {{ ref('regions') }} as regions
    where regions.region_code like 'E12%'
    group by 1, 2, 3, 4
),

totals as (
    select
        measure,
        period_type,
        period,
        area_type,
        country,
        count(*) filter (where aligned) as values_included,
        -- Null when no value is for the year itself (see not_aligned).
        sum(value_lower) filter (where aligned) as total_lower,
        -- A part with no upper bound leaves the whole without one: null, never a partial sum.
        case when count(*) filter (where aligned) = count(value_upper) filter (where aligned)
             then sum(value_upper) filter (where aligned) end as total_upper,
        count(*) filter (where aligned) = count(value_upper) filter (where aligned)
            as total_upper_bounded,
        count(*) filter (where aligned and suppression is not null) as suppressed_values,
        count(distinct area_gss) filter (where aligned) as areas_included,
        string_agg(area_name, '; ' order by area_name) filter (where aligned) as areas,
        string_agg(distinct source_name, '; ') filter (where aligned) as sources,
        count(*) filter (where not aligned) as not_aligned_values,
        string_agg(area_name || ' ' || to_char(period_start, 'DD/MM/YYYY') || '-'
                   || to_char(period_end, 'DD/MM/YYYY'), '; '
                   order by area_name, period_start) filter (where not aligned) as not_aligned
    from overlapping
    group by measure, period_type, period, area_type, country
),

final as (
    select
        totals.measure || ':' || totals.period_type || ':' || totals.period || ':'
            || totals.area_type || ':' || totals.country as row_key,
        totals.measure,
        totals.period_type,
        totals.period,
        totals.area_type,
        totals.country,
        totals.values_included,
        totals.total_lower,
        totals.total_upper,
        totals.total_upper_bounded,
        totals.suppressed_values,
        totals.areas_included,
        in_being.areas as areas_in_being,
        round(totals.areas_included::numeric / nullif(in_being.areas, 0), 3) as area_coverage,
        totals.areas,
        totals.sources,
        totals.not_aligned_values,
        totals.not_aligned
    from totals
    left join in_being
        on in_being.period_type = totals.period_type
        and in_being.period = totals.period
        and in_being.area_type = totals.area_type
        and in_being.country = totals.country
)

select * from final
