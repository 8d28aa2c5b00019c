-- Each child in a current council return (looked after in the year, missing or not): the
-- authority's CHILD, as a keyed hash, with what links it to other records of the same child
-- (UPN and date of birth as keyed hashes, sex, the years returned, where placed).
with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'council'
),

headers as (
    select * from {{ ref('stg_council__headers') }}
),

placements as (
    select episodes.child_key, current_submissions.authority_gss,
           -- '|TS1|TS17|': every district the child was placed in, for linkage.
           '|' || string_agg(distinct episodes.placement_postcode_district, '|') || '|'
               as placement_districts,
           max(current_submissions.collection_year) filter (where episodes.episode_end is null)
               as last_year_in_care_at_end
    from {{ ref('stg_council__episodes') }} as episodes
    inner join current_submissions
        on current_submissions.submission_id = episodes.submission_id
    group by 1, 2
),

per_child as (
    select
        headers.child_key,
        current_submissions.authority_gss,
        -- A UPN or date of birth missing one year may be given in another.
        max(headers.upn_key) as upn_key,
        max(headers.dob_key) as dob_key,
        max(headers.birth_month) as birth_month,
        max(headers.sex_code) as sex_code,
        min(current_submissions.collection_year) as first_collection_year,
        max(current_submissions.collection_year) as last_collection_year
    from headers
    inner join current_submissions
        on current_submissions.submission_id = headers.submission_id
    group by 1, 2
),

final as (
    select
        per_child.*,
        placements.placement_districts,
        -- Still in care on 31 March of the last year this authority returned the child.
        coalesce(placements.last_year_in_care_at_end = per_child.last_collection_year, false)
            as in_care_at_end_of_last_return
    from per_child
    left join placements using (child_key, authority_gss)
)

select * from final
