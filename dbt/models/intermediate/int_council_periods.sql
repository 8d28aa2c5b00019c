-- Every missing or away period in a current council return, with what linkage needs to know
-- about the child: keyed hashes of UPN and date of birth, sex and birth month. Built
-- incrementally by submission (macros/incremental_by_submission.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['council_submission_id']}],
    pre_hook="{{ delete_not_current('council_submission_id', 'council') }}"
) }}

with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'council'
    {{ not_built_yet('council_submission_id') }}
),

periods as (
    select * from {{ ref('stg_council__missing_periods') }}
),

headers as (
    -- One header row per child per return (the gate rejects none, so take the first line).
    select distinct on (submission_id, child_key) *
    from {{ ref('stg_council__headers') }}
    order by submission_id, child_key, source_line_no
),

final as (
    select
        periods.submission_id as council_submission_id,
        periods.source_line_no as council_line_no,
        periods.child_key,
        headers.upn_key,
        headers.dob_key,
        headers.birth_month,
        headers.sex_code as sex_code,
        current_submissions.authority_gss,
        current_submissions.collection_year,
        periods.missing_type,
        periods.missing_start as start_date,
        periods.missing_end as end_date,
        -- The n-th period of the child starting that day: pairs several incidents in one day.
        -- (A child's periods of a day are all in one return: each return holds its year.)
        row_number() over (
            partition by periods.submission_id, periods.child_key, periods.missing_start
            order by periods.missing_end nulls last, periods.source_line_no
        ) as nth_that_day
    from periods
    inner join current_submissions
        on current_submissions.submission_id = periods.submission_id
    left join headers
        on headers.submission_id = periods.submission_id
        and headers.child_key = periods.child_key
)

select * from final
