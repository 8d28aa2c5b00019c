-- One row per value delivered in a current aggregate return (FOI answers, published tables,
-- press figures), as an interval, with who produced it and what it counts. Values from
-- different sources for the same cell (area, period, measure, group, counting) coexist; a
-- later file from the same source replaces that source's earlier value (is_current_value
-- false, replaced_by_value_key set). is_preferred marks the one current value per cell the
-- totals of agg_reported_by_year use (docs/returns/aggregate.md, "Which value is used").
with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'aggregate'
),

areas as (
    select * from {{ ref('int_reported_areas') }}
),

periods as (
    select * from {{ ref('dim_periods') }}
),

delivered as (
    select
        md5(values_.submission_id::text || ':' || values_.source_line_no::text) as value_key,
        values_.*,
        current_submissions.authority_as_delivered as delivered_by,
        current_submissions.collection_year as file_label,
        -- The cell a value is for; two values of one cell count the same thing.
        concat_ws('|', values_.area_gss, values_.period_start, values_.period_end,
                  values_.measure, values_.age_band, values_.sex, values_.counting) as cell
    from {{ ref('stg_aggregate__values') }} as values_
    inner join current_submissions
        on current_submissions.submission_id = values_.submission_id
),

-- The same source again for the same cell: its latest file's value replaces the others.
by_source as (
    select
        delivered.*,
        first_value(value_key) over (
            partition by cell, lower(source_name)
            order by submission_id desc, source_line_no desc) as latest_of_source
    from delivered
),

-- Of a cell's current values, the one totals use: the kind of source that holds the records
-- for that kind of area first, then the latest file.
ranked as (
    select
        by_source.*,
        value_key = latest_of_source as is_current_value,
        count(*) filter (where value_key = latest_of_source) over (partition by cell)
            as sources_for_cell,
        row_number() over (
            partition by cell
            order by (value_key = latest_of_source) desc,
                     array_position(
                         case area_type
                             when 'authority' then array['council', 'government', 'police_force',
                                                         'charity', 'media', 'other']
                             when 'force' then array['police_force', 'government', 'council',
                                                     'charity', 'media', 'other']
                             else array['government', 'council', 'police_force', 'charity',
                                        'media', 'other']
                         end, source_kind),
                     submission_id desc, source_line_no desc) = 1 as is_preferred
    from by_source
),

-- A value of one file that counts part of what another of the same file counts (a year of a
-- span, an authority of a region, a group of all the children): summing both double-counts.
nested as (
    select distinct on (part.value_key)
        part.value_key, whole.value_key as within_value_key
    from ranked as part
    inner join areas as part_area on part_area.area_gss = part.area_gss
    inner join ranked as whole
        on whole.submission_id = part.submission_id
        and whole.measure = part.measure
        and whole.value_key <> part.value_key
        and whole.period_start <= part.period_start and whole.period_end >= part.period_end
        and whole.area_gss in (part.area_gss, part_area.region_code, part_area.country_gss,
                               'K04000001')
        and (whole.age_band is null or whole.age_band = part.age_band)
        and (whole.sex is null or whole.sex = part.sex)
        and whole.cell <> part.cell
    order by part.value_key, whole.period_end - whole.period_start, whole.source_line_no
),

final as (
    select
        ranked.value_key,
        ranked.area_type,
        ranked.area_gss,
        areas.area_name,
        areas.country,
        ranked.period_start,
        ranked.period_end,
        -- A period known only to the year: the latest it may start, the earliest it may end.
        ranked.period_start_latest,
        ranked.period_end_earliest,
        ranked.period_start_latest > ranked.period_start
            or ranked.period_end_earliest < ranked.period_end as is_period_approximate,
        ranked.covered_from,
        ranked.covered_to,
        ranked.covered_from is not null or ranked.covered_to is not null as is_partial_coverage,
        -- The year the period is exactly, when it is one; else null (not aligned).
        case when starts.financial_year = ends.financial_year
                  and to_char(ranked.period_start, 'MM-DD') = '04-01'
                  and to_char(ranked.period_end, 'MM-DD') = '03-31'
                  and not (ranked.period_start_latest > ranked.period_start
                           or ranked.period_end_earliest < ranked.period_end)
                  and ranked.covered_from is null and ranked.covered_to is null
             then starts.financial_year end as financial_year,
        case when starts.calendar_year = ends.calendar_year
                  and to_char(ranked.period_start, 'MM-DD') = '01-01'
                  and to_char(ranked.period_end, 'MM-DD') = '12-31'
                  and not (ranked.period_start_latest > ranked.period_start
                           or ranked.period_end_earliest < ranked.period_end)
                  and ranked.covered_from is null and ranked.covered_to is null
             then starts.calendar_year end as calendar_year,
        ranked.measure,
        ranked.counting,
        ranked.age_band,
        ranked.sex,
        ranked.age_band is not null or ranked.sex is not null as is_group,
        ranked.value_as_delivered,
        ranked.rounded_to,
        ranked.value_lower,
        ranked.value_upper,
        ranked.suppression,
        ranked.note,
        ranked.source_kind,
        ranked.source_name,
        ranked.is_current_value,
        case when not ranked.is_current_value then ranked.latest_of_source end
            as replaced_by_value_key,
        ranked.is_preferred,
        ranked.sources_for_cell,
        nested.within_value_key,
        ranked.delivered_by,
        ranked.file_label,
        ranked.submission_id,
        ranked.source_line_no
    from ranked
    left join areas on areas.area_gss = ranked.area_gss
    left join nested on nested.value_key = ranked.value_key
    left join periods as starts on starts.date_day = ranked.period_start
    left join periods as ends on ends.date_day = ranked.period_end
)

select * from final
