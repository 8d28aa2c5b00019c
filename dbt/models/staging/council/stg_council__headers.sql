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
        -- SSDA903 sex: 1 and 2 up to 2023-24, M, F and U from 2024-25; as police send it.
        case upper(sex) when '1' then 'M' when '2' then 'F' when 'M' then 'M' when 'F' then 'F'
            else 'U' end as sex_code,
        -- Full dates of birth stay in raw: beyond it, only the month.
        date_trunc('month', dob)::date as birth_month,
        ethnic as ethnicity_code
    from source
)

select * from renamed
