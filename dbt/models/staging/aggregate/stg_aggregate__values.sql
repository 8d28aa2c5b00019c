with source as (
    select * from {{ source('aggregate', 'aggregate_values') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        area_as_delivered,
        area_type,
        area_gss,
        period_start,
        coalesce(period_start_latest, period_start) as period_start_latest,
        coalesce(period_end_earliest, period_end) as period_end_earliest,
        period_end,
        covered_from,
        covered_to,
        measure,
        counting,
        age_band,
        sex,
        value_as_delivered,
        rounded_to,
        value_lower,
        value_upper,
        suppression,
        note,
        source_kind,
        source_name
    from source
)

select * from renamed
