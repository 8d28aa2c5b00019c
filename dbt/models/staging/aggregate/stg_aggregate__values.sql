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
        period_end,
        measure,
        value_as_delivered,
        rounded_to,
        value_lower,
        value_upper,
        suppression,
        note
    from source
)

select * from renamed
