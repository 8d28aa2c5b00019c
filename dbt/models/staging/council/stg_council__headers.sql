-- Named columns, not *: the date of birth itself is not granted beyond raw (docs/security.md).
with source as (
    select submission_id, line_no, child_key, upn_key, dob_key, sex, birth_month, ethnic
    from {{ source('council', 'council_header') }}
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
        birth_month,
        ethnic as ethnicity_code
    from source
)

select * from renamed
