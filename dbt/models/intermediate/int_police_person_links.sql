-- Which council child each police person is, when the evidence says so (docs/architecture.md,
-- "Linking children"). A person is a force's PERSON_REF; a child is an authority's CHILD.
-- The candidates are int_police_link_candidates. Evidence for a candidate: incidents both
-- returned, the force's RESPONSIBLE_LA and the placement district. Each person is linked to
-- at most one child.
with candidates as (
    select * from {{ ref('int_police_link_candidates') }}
),

persons as (
    select * from {{ ref('int_police_persons') }}
),

incidents as (
    select * from {{ ref('int_police_incidents') }}
),

periods as (
    select * from {{ ref('int_council_periods') }}
),

children as (
    select * from {{ ref('int_council_children') }}
),

-- The days a child's periods start, with the day before and after: an incident on one of them
-- is shared. Distinct, so that an incident counts once however many periods it is near.
child_days as (
    select distinct periods.child_key, near.day
    from periods
    cross join lateral (
        values (periods.start_date - 1), (periods.start_date), (periods.start_date + 1)
    ) as near (day)
),

-- The evidence for each candidate, over the person's incidents, in one pass.
scored as (
    select
        candidates.person_key,
        candidates.child_key,
        candidates.dob_match,
        count(child_days.child_key) as shared_incidents,
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
    left join child_days
        on child_days.child_key = candidates.child_key
        and child_days.day = incidents.start_date
    group by 1, 2, 3
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
