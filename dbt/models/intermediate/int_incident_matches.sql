-- Police incidents and council periods that are the same event (docs/architecture.md,
-- "Merging incidents"): the same child (int_identities), starting on the same day or a day
-- apart (council dates are whole days; a report late at night may be dated the next day by
-- one side). Each is paired with at most one: the pair must be each other's best candidate,
-- nearest start day first, then the same place in the day's order (the n-th incident of the
-- day), so several incidents on one day pair up in order; then again among the unpaired.
with identities as (
    select * from {{ ref('int_identities') }}
),

periods as (
    select periods.*, identities.child_id
    from {{ ref('int_council_periods') }} as periods
    inner join identities
        on identities.record_source = 'council' and identities.record_key = periods.child_key
),

incidents as (
    select incidents.*, identities.child_id
    from {{ ref('int_police_incidents') }} as incidents
    inner join identities
        on identities.record_source = 'police' and identities.record_key = incidents.person_key
),

candidates as (
    select
        incidents.police_submission_id,
        incidents.police_line_no,
        periods.council_submission_id,
        periods.council_line_no,
        abs(periods.start_date - incidents.start_date) as days_apart,
        abs(periods.nth_that_day - incidents.nth_that_day) as order_apart
    from incidents
    inner join periods
        on periods.child_id = incidents.child_id
        and periods.start_date between incidents.start_date - 1 and incidents.start_date + 1
),

-- Mutual best choices are paired; then again among those still unpaired (a second round
-- finds, say, the incident at 23:50 whose nearest period was already taken by the same day's).
round_1 as (
    {{ mutual_best('candidates') }}
),

left_over as (
    select candidates.*
    from candidates
    where not exists (select 1 from round_1
                      where round_1.police_submission_id = candidates.police_submission_id
                          and round_1.police_line_no = candidates.police_line_no)
        and not exists (select 1 from round_1
                        where round_1.council_submission_id = candidates.council_submission_id
                            and round_1.council_line_no = candidates.council_line_no)
),

round_2 as (
    {{ mutual_best('left_over') }}
)

select police_submission_id, police_line_no, council_submission_id, council_line_no, days_apart
from round_1
union all
select police_submission_id, police_line_no, council_submission_id, council_line_no, days_apart
from round_2
