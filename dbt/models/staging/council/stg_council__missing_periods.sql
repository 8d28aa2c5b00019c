-- Named columns, not *: the date of birth itself is not granted beyond raw (docs/security.md).
with source as (
    select submission_id, line_no, child_key, missing_type, mis_start, mis_end, age_at_start
    from {{ source('council', 'council_missing') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        child_key,
        case missing_type when 'M' then 'missing' when 'A' then 'away' end as missing_type,
        mis_start as missing_start,
        mis_end as missing_end,
        -- Whole years on the first day, from the row's date of birth (computed in raw).
        age_at_start
    from source
)

select * from renamed
