-- Which council child each police person is, when the evidence says so (docs/architecture.md,
-- "Linking children"). A person is a force's PERSON_REF; a child is an authority's CHILD.
-- Candidates share sex and either the date of birth (keyed hash) or, for persons the force
-- gave no date of birth, an age that fits the child's birth month on a day both sources have
-- an incident starting. Evidence for a candidate: incidents both returned, the force's
-- RESPONSIBLE_LA and the placement district. Each person is linked to at most one child: the
-- best supported.
with incidents as (
    select * from {{ ref('int_police_incidents') }}
),

periods as (
    select * from {{ ref('int_council_periods') }}
),

children as (
    select * from {{ ref('int_council_children') }}
),

persons as (
    select
        person_key,
        max(force_code) as force_code,
        mode() within group (order by dob_key) as dob_key,
        mode() within group (order by sex_code) as sex_code
    from incidents
    group by 1
),

by_date_of_birth as (
    select persons.person_key, children.child_key, true as dob_match
    from persons
    inner join children
        on children.dob_key = persons.dob_key
        and children.sex_code = persons.sex_code
),

by_age as (
    select distinct incidents.person_key, periods.child_key, false as dob_match
    from incidents
    inner join persons
        on persons.person_key = incidents.person_key
        and persons.dob_key is null
    inner join periods
        on periods.sex_code = incidents.sex_code
        and periods.start_date between incidents.start_date - 1 and incidents.start_date + 1
        -- Born in birth_month: on the day, at least the age of a child born on its last day,
        -- at most that of one born on its first.
        and incidents.age_at_report between
            extract(year from age(incidents.start_date,
                                  (periods.birth_month + interval '1 month - 1 day')::date))
            and extract(year from age(incidents.start_date, periods.birth_month))
),

candidates as (
    select * from by_date_of_birth
    union all
    select * from by_age
),

shared_incidents as (
    select candidates.person_key, candidates.child_key,
           count(distinct (incidents.police_submission_id, incidents.police_line_no))
               as shared_incidents
    from candidates
    inner join incidents on incidents.person_key = candidates.person_key
    inner join periods
        on periods.child_key = candidates.child_key
        and periods.start_date between incidents.start_date - 1 and incidents.start_date + 1
    group by 1, 2
),

authority_evidence as (
    select candidates.person_key, candidates.child_key,
           count(*) filter (where incidents.responsible_authority_gss = children.authority_gss)
               as authority_agrees,
           count(*) filter (where incidents.responsible_authority_gss <> children.authority_gss)
               as authority_differs,
           count(*) filter (where children.placement_districts
                                    like '%|' || incidents.placement_district || '|%')
               as district_agrees
    from candidates
    inner join incidents on incidents.person_key = candidates.person_key
    inner join children on children.child_key = candidates.child_key
    group by 1, 2
),

scored as (
    select
        candidates.person_key,
        candidates.child_key,
        candidates.dob_match,
        coalesce(shared_incidents.shared_incidents, 0) as shared_incidents,
        authority_evidence.authority_agrees,
        authority_evidence.authority_differs,
        authority_evidence.district_agrees
    from candidates
    left join shared_incidents using (person_key, child_key)
    inner join authority_evidence using (person_key, child_key)
),

-- Evidence enough: an incident on the same days and the place agrees, and the authority the
-- force named (if any) agrees; without a date of birth, the only such child. With a date of
-- birth but no shared incident (the council did not return it), the authority must agree too.
supported as (
    select *
    from scored
    where authority_differs <= authority_agrees
        and district_agrees >= 1
        and (shared_incidents >= 1 or (dob_match and authority_agrees >= 1))
),

accepted as (
    select *,
        row_number() over (
            partition by person_key
            order by dob_match desc, shared_incidents desc, authority_agrees desc,
                     district_agrees desc, child_key
        ) as preference,
        count(*) over (partition by person_key) as candidates
    from supported
),

best_for_person as (
    select accepted.*, persons.force_code
    from accepted
    inner join persons on persons.person_key = accepted.person_key
    where preference = 1 and (dob_match or candidates = 1 or authority_agrees >= 1)
),

-- A force has one PERSON_REF per person, so a child is at most one person of each force: the
-- best supported, the others stay police-only.
final as (
    select
        person_key,
        child_key,
        force_code,
        case when dob_match then 'date of birth' else 'age' end as matched_on,
        shared_incidents,
        authority_agrees,
        district_agrees
    from (
        select *,
            row_number() over (
                partition by child_key, force_code
                order by dob_match desc, shared_incidents desc, authority_agrees desc,
                         district_agrees desc, person_key
            ) as rank_for_child
        from best_for_person
    ) as ranked
    where rank_for_child = 1
)

select * from final
