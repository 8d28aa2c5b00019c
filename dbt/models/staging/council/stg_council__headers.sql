with source as (
    select * from {{ source('council', 'council_header') }}
),

renamed as (
    select
        submission_id,
        line_no as source_line_no,
        child_key,
        upn_key,
        dob_key,
        sex as sex_code,
        -- Full dates of birth stay in raw: beyond it, only the month.
        date_trunc('month', dob)::date as birth_month,
        ethnic as ethnicity_code
    from source
)

select * from renamed
