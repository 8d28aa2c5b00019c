-- The council children each police person might be (docs/architecture.md, "Linking
-- children"): same sex, and the same date of birth (keyed hash) and a placement district in
-- common or, for persons the force gave
-- no date of birth, an age that fits the child's birth month and either a period starting
-- within a day of one of the person's incidents or, in the authority the force named, within a
-- year of it. int_police_person_links weighs the evidence. Every join here is an equality
-- that the planner can hash: ranges over the nation's incidents and periods are billions of
-- pairs.
{{ config(indexes=[{'columns': ['person_key']}, {'columns': ['child_key']}]) }}

with incidents as (
    select * from {{ ref('int_police_incidents') }}
),

persons as (
    select * from {{ ref('int_police_persons') }}
),

periods as (
    select * from {{ ref('int_council_periods') }}
),

children as (
    select * from {{ ref('int_council_children') }}
),

-- A link needs a placement district in common (int_police_person_links), so candidates on the
-- date of birth are found on it too: date of birth, sex and district, as one equality. (On the
-- date of birth and sex alone the nation gives millions of pairs.)
person_districts as (
    select distinct persons.person_key, persons.dob_key, persons.sex_code,
           incidents.placement_district as district
    from persons
    inner join incidents on incidents.person_key = persons.person_key
    where persons.dob_key is not null
),

child_districts as (
    select distinct children.child_key, children.dob_key, children.sex_code, placed.district
    from children
    cross join lateral unnest(string_to_array(btrim(children.placement_districts, '|'), '|'))
        as placed (district)
),

by_date_of_birth as (
    select distinct person_districts.person_key, child_districts.child_key
    from person_districts
    inner join child_districts
        on child_districts.dob_key = person_districts.dob_key
        and child_districts.sex_code = person_districts.sex_code
        and child_districts.district = person_districts.district
),

-- Incidents of persons without a date of birth: only they are linked on age.
ageing_incidents as (
    select incidents.*
    from incidents
    inner join persons
        on persons.person_key = incidents.person_key
        and persons.dob_key is null
),

-- The day before, the day and the day after, as equalities.
by_age as (
    select distinct incidents.person_key, periods.child_key
    from ageing_incidents as incidents
    cross join lateral (
        values (incidents.start_date - 1), (incidents.start_date), (incidents.start_date + 1)
    ) as near (start_date)
    inner join periods
        on periods.sex_code = incidents.sex_code
        and periods.start_date = near.start_date
        and {{ age_fits_birth_month('incidents.age_at_report', 'incidents.start_date',
                                    'periods.birth_month') }}
),

-- Without a shared incident: a child of the authority the force named, of that age, whom the
-- council returned as missing within a year either side. (A child of that age was born in one
-- of two years: an equality the join hashes on.)
by_age_and_authority as (
    select distinct incidents.person_key, periods.child_key
    from ageing_incidents as incidents
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

-- A person has a date of birth or not, so a pair is found on one or the other, never both.
final as (
    select person_key, child_key, true as dob_match from by_date_of_birth
    union all
    select person_key, child_key, false from (
        select * from by_age
        union
        select * from by_age_and_authority
    ) as on_age
)

select * from final
