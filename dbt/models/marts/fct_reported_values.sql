-- One row per value reported in a current aggregate return (FOI answers, legacy tables), as
-- an interval, with the financial or calendar year its period is exactly, if any. When two
-- current files report the same area, period and measure, the later file's value is used.
with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'aggregate'
),

reported as (
    select distinct on (values_.area_gss, values_.period_start, values_.period_end,
                        values_.measure)
        values_.*,
        current_submissions.authority_as_delivered as delivered_by,
        current_submissions.collection_year as file_label
    from {{ ref('stg_aggregate__values') }} as values_
    inner join current_submissions
        on current_submissions.submission_id = values_.submission_id
    order by values_.area_gss, values_.period_start, values_.period_end, values_.measure,
             values_.submission_id desc
),

areas as (
    select authority_gss as area_gss, authority_name as area_name, country
    from {{ ref('dim_authorities') }}
    union all
    select pfa_code, force_name, country from {{ ref('dim_police_forces') }}
    union all
    select 'E92000001', 'England', 'England'
    union all
    select 'W92000004', 'Wales', 'Wales'
    union all
    select 'K04000001', 'England and Wales', null
),

periods as (
    select * from {{ ref('dim_periods') }}
),

final as (
    select
        md5(reported.submission_id::text || ':' || reported.source_line_no::text) as value_key,
        reported.area_type,
        reported.area_gss,
        areas.area_name,
        coalesce(areas.country, 'England and Wales') as country,
        reported.period_start,
        reported.period_end,
        -- The year the period is exactly, when it is one; else null (not aligned).
        case when starts.financial_year = ends.financial_year
                  and extract(month from reported.period_start) = 4
                  and extract(day from reported.period_start) = 1
                  and extract(month from reported.period_end) = 3
                  and extract(day from reported.period_end) = 31
             then starts.financial_year end as financial_year,
        case when starts.calendar_year = ends.calendar_year
                  and to_char(reported.period_start, 'MM-DD') = '01-01'
                  and to_char(reported.period_end, 'MM-DD') = '12-31'
             then starts.calendar_year end as calendar_year,
        reported.measure,
        reported.value_as_delivered,
        reported.rounded_to,
        reported.value_lower,
        reported.value_upper,
        reported.suppression,
        reported.note,
        reported.delivered_by,
        reported.file_label,
        reported.submission_id,
        reported.source_line_no
    from reported
    left join areas on areas.area_gss = reported.area_gss
    left join periods as starts on starts.date_day = reported.period_start
    left join periods as ends on ends.date_day = reported.period_end
)

select * from final
