-- Reported values added up by measure, financial or calendar year, kind of area (authority,
-- force, country, national) and country. Every total is an interval [total_lower,
-- total_upper]; with total_upper_bounded false it has no upper bound. Values whose period
-- overlaps the year without being it are left out of the total and listed in not_aligned.
with reported as (
    select * from {{ ref('fct_reported_values') }}
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
        reported.period_start = years.year_start and reported.period_end = years.year_end
            as aligned
    from reported
    inner join years
        on reported.period_start <= years.year_end and reported.period_end >= years.year_start
),

final as (
    select
        measure || ':' || period_type || ':' || period || ':' || area_type || ':' || country
            as row_key,
        measure,
        period_type,
        period,
        area_type,
        country,
        count(*) filter (where aligned) as values_included,
        -- Null when no value is for the year itself (see not_aligned).
        sum(value_lower) filter (where aligned) as total_lower,
        sum(value_upper) filter (where aligned) as total_upper,
        -- False when a suppressed value has no upper bound: the total has none either.
        count(*) filter (where aligned) = count(value_upper) filter (where aligned)
            as total_upper_bounded,
        count(*) filter (where aligned and suppression is not null) as suppressed_values,
        count(*) filter (where not aligned) as not_aligned_values,
        string_agg(area_name || ' ' || to_char(period_start, 'DD/MM/YYYY') || '-'
                   || to_char(period_end, 'DD/MM/YYYY'), '; '
                   order by area_name, period_start) filter (where not aligned) as not_aligned
    from overlapping
    group by measure, period_type, period, area_type, country
)

select * from final
