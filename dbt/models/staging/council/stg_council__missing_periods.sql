with source as (
    select * from {{ source('council', 'council_missing') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        child_key,
        case missing_type when 'M' then 'missing' when 'A' then 'away' end as missing_type,
        mis_start as missing_start,
        mis_end as missing_end
    from source
)

select * from renamed
