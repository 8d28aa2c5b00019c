-- Every stored check result, typed, with is_current marking the newest result of each check of
-- each submission (later runs may write a check again; ties on time go to the later run id).
-- Named columns, not *: the examples hold failing values as delivered (dates of birth among
-- them) and stay with the loader (docs/security.md).
with source as (
    select submission_id, run_id, check_id, table_name, stage, severity, result,
           unexpected_count, checked_count, message, checked_at
    from {{ source('dq', 'check_results') }}
),

renamed as (
    select
        submission_id || ':' || run_id || ':' || check_id as check_result_key,
        submission_id,
        run_id,
        check_id,
        table_name,
        stage,
        severity,
        result,
        unexpected_count,
        checked_count,
        message,
        checked_at,
        row_number() over (
            partition by submission_id, check_id
            order by checked_at desc, run_id desc
        ) = 1 as is_current
    from source
)

select * from renamed
