-- Council authority x collection year, for every authority-year with a council submission whose
-- authority and year were recognised (others are in dq_submissions only): how many submissions
-- came, the latest and the loaded one, the missing periods it holds, what the checks found over
-- all of them, and the change in missing periods from the authority's previous collection year.
with submissions as (
    select * from {{ ref('dq_submissions') }}
    where return_source = 'council'
        and authority_gss is not null
        and period_end is not null
),

current_results as (
    select * from {{ ref('stg_dq__check_results') }}
    where is_current
),

missing_periods as (
    select * from {{ ref('stg_council__missing_periods') }}
),

authorities as (
    select * from {{ ref('dim_authorities') }}
),

ranked as (
    select
        *,
        -- Newer submissions have higher ids; mfc.load supersedes in the same order.
        row_number() over (
            partition by authority_gss, collection_year order by submission_id desc
        ) as recency
    from submissions
),

per_year as (
    select
        authority_gss,
        collection_year,
        period_start,
        period_end,
        count(*) as submissions_received,
        -- Failed at their gate, whatever their status now (a corrected return supersedes them).
        count(*) filter (where blocking_failures > 0) as submissions_failed,
        count(*) filter (where status = 'loaded') as submissions_loaded,
        min(coalesce(delivered_at, received_at)) as first_delivered_at,
        max(coalesce(delivered_at, received_at)) as last_delivered_at,
        min(received_at) as first_received_at,
        max(submission_id) filter (where recency = 1) as latest_submission_id,
        max(status) filter (where recency = 1) as latest_status,
        max(submission_id) filter (where status = 'loaded') as loaded_submission_id,
        sum(checks_failed)::bigint as checks_failed,
        sum(checks_warned)::bigint as checks_warned
    from ranked
    group by authority_gss, collection_year, period_start, period_end
),

check_ids as (
    select
        submissions.authority_gss,
        submissions.collection_year,
        string_agg(distinct current_results.check_id, ',' order by current_results.check_id)
            filter (where current_results.result = 'FAIL') as failed_check_ids,
        string_agg(distinct current_results.check_id, ',' order by current_results.check_id)
            filter (where current_results.result = 'WARNING') as warning_check_ids
    from submissions
    inner join current_results on current_results.submission_id = submissions.submission_id
    group by submissions.authority_gss, submissions.collection_year
),

periods_per_submission as (
    select
        submission_id,
        count(*) as missing_periods
    from missing_periods
    group by submission_id
),

with_periods as (
    select
        per_year.*,
        case when per_year.loaded_submission_id is not null
            then coalesce(periods_per_submission.missing_periods, 0)
        end as missing_periods
    from per_year
    left join periods_per_submission
        on periods_per_submission.submission_id = per_year.loaded_submission_id
),

final as (
    select
        this_year.authority_gss || ':' || this_year.collection_year as authority_year_key,
        this_year.authority_gss,
        authorities.authority_name,
        authorities.region_name,
        this_year.collection_year,
        this_year.period_start,
        this_year.period_end,
        this_year.submissions_received,
        this_year.submissions_failed,
        this_year.submissions_loaded,
        this_year.submissions_received > 1 as is_resubmitted,
        this_year.first_delivered_at,
        this_year.first_received_at,
        this_year.last_delivered_at,
        this_year.latest_submission_id,
        this_year.latest_status,
        this_year.loaded_submission_id,
        this_year.missing_periods,
        previous_year.missing_periods as previous_year_missing_periods,
        this_year.missing_periods - previous_year.missing_periods as missing_periods_change,
        round(100.0 * (this_year.missing_periods - previous_year.missing_periods)
              / nullif(previous_year.missing_periods, 0), 1)::numeric(10, 1) as missing_periods_change_pct,
        this_year.checks_failed,
        this_year.checks_warned,
        check_ids.failed_check_ids,
        check_ids.warning_check_ids
    from with_periods as this_year
    left join with_periods as previous_year
        on previous_year.authority_gss = this_year.authority_gss
        and previous_year.period_start = (this_year.period_start - interval '1 year')::date
    left join check_ids
        on check_ids.authority_gss = this_year.authority_gss
        and check_ids.collection_year = this_year.collection_year
    left join authorities on authorities.authority_gss = this_year.authority_gss
)

select * from final
