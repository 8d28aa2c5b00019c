-- Every incident in a current police month file, with the day it started and ended. Built
-- incrementally by submission (macros/incremental_by_submission.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['police_submission_id']}],
    pre_hook="{{ delete_not_current('police_submission_id', 'police') }}"
) }}

with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'police'
    {{ not_built_yet('police_submission_id') }}
),

incidents as (
    select * from {{ ref('stg_police__incidents') }}
),

final as (
    select
        incidents.submission_id as police_submission_id,
        incidents.source_line_no as police_line_no,
        incidents.force_code,
        incidents.person_key,
        incidents.dob_key,
        incidents.birth_month,
        incidents.age_at_report,
        incidents.sex_code,
        incidents.responsible_authority_gss,
        incidents.risk_grade,
        incidents.placement_district,
        incidents.looked_after_flag,
        incidents.reported_at,
        incidents.found_at,
        incidents.reported_at::date as start_date,
        incidents.found_at::date as end_date,
        -- (A day's incidents are all in one month file.)
        row_number() over (
            partition by incidents.submission_id, incidents.person_key, incidents.reported_at::date
            order by incidents.reported_at, incidents.source_line_no
        ) as nth_that_day
    from incidents
    inner join current_submissions
        on current_submissions.submission_id = incidents.submission_id
)

select * from final
