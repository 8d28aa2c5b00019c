-- One row per submission with what its gate found: the current result of every check (the
-- newest row of each, stg_dq__check_results), counted by result, and the ids of the checks
-- that failed or warned. A submission not yet gated has no results: zero counts, null lists.
with submissions as (
    select * from {{ ref('stg_audit__submissions') }}
),

current_results as (
    select * from {{ ref('stg_dq__check_results') }}
    where is_current
),

authorities as (
    select * from {{ ref('dim_authorities') }}
),

forces as (
    select * from {{ ref('dim_police_forces') }}
),

per_submission as (
    select
        submission_id,
        count(*) as checks_run,
        count(*) filter (where result = 'PASS') as checks_passed,
        count(*) filter (where result = 'WARNING') as checks_warned,
        count(*) filter (where result = 'FAIL') as checks_failed,
        count(*) filter (where result = 'NOT_RUN') as checks_not_run,
        count(*) filter (where result = 'FAIL' and severity = 'blocking') as blocking_failures,
        string_agg(check_id, ',' order by check_id) filter (where result = 'FAIL')
            as failed_check_ids,
        string_agg(check_id, ',' order by check_id) filter (where result = 'WARNING')
            as warning_check_ids,
        -- Rows of the return's main table (missing.csv, a police month, an aggregate file) as
        -- the checks that read its rows counted them (cross-submission checks count otherwise).
        max(checked_count) filter (
            where table_name in ('missing', 'incidents', 'values')
                and stage in ('structure', 'content')
        ) as rows_delivered,
        max(checked_at) as last_checked_at
    from current_results
    group by submission_id
),

final as (
    select
        submissions.submission_id,
        submissions.return_source,
        submissions.authority_as_delivered,
        case when submissions.return_source = 'council' then submissions.authority_gss end
            as authority_gss,
        case when submissions.return_source = 'police' then submissions.authority_gss end
            as force_code,
        coalesce(authorities.authority_name, forces.force_name) as returned_by_name,
        submissions.collection_year,
        submissions.period_start,
        submissions.period_end,
        submissions.status,
        submissions.superseded_by,
        submissions.delivered_at,
        submissions.received_at,
        coalesce(per_submission.checks_run, 0) as checks_run,
        coalesce(per_submission.checks_passed, 0) as checks_passed,
        coalesce(per_submission.checks_warned, 0) as checks_warned,
        coalesce(per_submission.checks_failed, 0) as checks_failed,
        coalesce(per_submission.checks_not_run, 0) as checks_not_run,
        coalesce(per_submission.blocking_failures, 0) as blocking_failures,
        per_submission.failed_check_ids,
        per_submission.warning_check_ids,
        per_submission.rows_delivered,
        per_submission.last_checked_at
    from submissions
    left join per_submission on per_submission.submission_id = submissions.submission_id
    left join authorities
        on submissions.return_source = 'council'
        and authorities.authority_gss = submissions.authority_gss
    left join forces
        on submissions.return_source = 'police'
        and forces.pfa_code = submissions.authority_gss
)

select * from final
