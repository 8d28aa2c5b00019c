-- Which council child each police person is, when the evidence says so (docs/architecture.md,
-- "Linking children"). A person is a force's PERSON_REF; a child is an authority's CHILD.
-- Candidates share sex and either the date of birth (keyed hash) or, for persons the force
-- gave no date of birth, an age that fits the child's birth month on a day both sources have
-- an incident starting. Evidence for a candidate: incidents both returned, the force's
-- RESPONSIBLE_LA and the placement district. Each person is linked to at most one child.
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

-- The day before, the day and the day after as equalities (not a range), so that the join is
-- hashed on sex and day: a range over the nation's incidents and periods is billions of pairs.
by_age as (
    select distinct incidents.person_key, periods.child_key, false as dob_match
    from incidents
    inner join persons
        on persons.person_key = incidents.person_key
        and persons.dob_key is null
    cross join lateral (
        values (incidents.start_date - 1), (incidents.start_date), (incidents.start_date + 1)
    ) as near (start_date)
    inner join periods
        on periods.sex_code = incidents.sex_code
        and periods.start_date = near.start_date
        and {{ age_fits_birth_month('incidents.age_at_report', 'incidents.start_date',
                                    'periods.birth_month') }}
),

-- Without a date of birth or a shared incident: a child of the authority the force named, of
-- that age, whom the council returned as missing within a year either side.
-- (A child of that age was born in one of two years: an equality the join hashes on.)
by_age_and_authority as (
    select distinct incidents.person_key, periods.child_key, false as dob_match
    from incidents
    inner join persons
        on persons.person_key = incidents.person_key
        and persons.dob_key is null
    cross join lateral (
        values (extract(year from incidents.start_date)::int - incidents.age_at_report),
               (extract(year from incidents.start_date)::int - incidents.age_at_report - 1)
    ) as born (birth_year)
    inner join periods
        on periods.authority_gss = incidents.responsible_authority_gss
        and periods.sex_code = incidents.sex_code
        and extract(year from periods.birth_month)::int = born.birth_year
        and periods.start_date between incidents.start_date - 365 and incidents.start_date + 365
        and {{ age_fits_birth_month('incidents.age_at_report', 'incidents.start_date',
                                    'periods.birth_month') }}
),

candidates as (
    select * from by_date_of_birth
    union
    select * from by_age
    union
    select * from by_age_and_authority
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
               as district_agrees,
           count(*) filter (where incidents.looked_after_flag = 'Y') as flagged_looked_after
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
        authority_evidence.district_agrees,
        authority_evidence.flagged_looked_after
    from candidates
    left join shared_incidents using (person_key, child_key)
    inner join authority_evidence using (person_key, child_key)
),

-- Evidence enough: the place agrees, the authority the force named (if any) agrees, and an
-- incident on the same days; without a date of birth, the only such child. With a date of
-- birth but no shared incident (the council did not return it), the force must have named
-- the authority or flagged the child looked after.
supported as (
    select *
    from scored
    where authority_differs <= authority_agrees
        and district_agrees >= 1
        and (shared_incidents >= 1
             or (dob_match and (authority_agrees >= 1 or flagged_looked_after >= 1))
             or (authority_agrees >= 1 and flagged_looked_after >= 1))
),

-- Best first: each person to its best candidate, and each council child to at most one person
-- per force (a force has one PERSON_REF per person). Links on the date of birth are made
-- first; a link on age alone only to a child no person of the force is linked to by date of
-- birth, and only when it is the one candidate left or the force named its authority.
dob_candidates as (
    select supported.*, persons.force_code,
        row_number() over (
            partition by supported.person_key
            order by shared_incidents desc, authority_agrees desc, district_agrees desc,
                     child_key
        ) as preference
    from supported
    inner join persons on persons.person_key = supported.person_key
    where dob_match
),

dob_links as (
    select *
    from (
        select *,
            row_number() over (
                partition by child_key, force_code
                order by shared_incidents desc, authority_agrees desc, district_agrees desc,
                         person_key
            ) as rank_for_child
        from dob_candidates
        where preference = 1
    ) as ranked
    where rank_for_child = 1
),

age_candidates as (
    select supported.*, persons.force_code,
        row_number() over (
            partition by supported.person_key
            order by shared_incidents desc, authority_agrees desc, district_agrees desc,
                     child_key
        ) as preference,
        count(*) over (partition by supported.person_key) as candidates
    from supported
    inner join persons on persons.person_key = supported.person_key
    where not dob_match
        and not exists (
            select 1 from dob_links
            where dob_links.child_key = supported.child_key
                and dob_links.force_code = persons.force_code
        )
),

age_links as (
    select *
    from (
        select *,
            row_number() over (
                partition by child_key, force_code
                order by shared_incidents desc, authority_agrees desc, district_agrees desc,
                         person_key
            ) as rank_for_child
        from age_candidates
        where preference = 1 and (candidates = 1 or authority_agrees >= 1)
    ) as ranked
    where rank_for_child = 1
),

final as (
    select person_key, child_key, force_code, 'date of birth' as matched_on, shared_incidents,
           authority_agrees, district_agrees
    from dob_links
    union all
    select person_key, child_key, force_code, 'age', shared_incidents, authority_agrees,
           district_agrees
    from age_links
)

select * from final
