-- Collection year x authority as the councils returned it: the DfE-comparable count, from
-- council returns only (police-only incidents are in agg_missing_by_authority_period). Every
-- authority-year with a current return has a row (a return with no missing periods reports
-- zeros; an authority that has not returned has no row).
with current_submissions as (
    select * from {{ ref('stg_audit__submissions') }}
    where is_current and return_source = 'council'
),

incidents as (
    select * from {{ ref('fct_missing_incidents') }}
    where council_submission_id is not null
),

authorities as (
    select * from {{ ref('dim_authorities') }}
),

per_child as (
    select
        council_collection_year as collection_year,
        responsible_authority_gss,
        council_child_key as child_key,
        count(*) as incidents,
        count(*) filter (where missing_type = 'missing') as missing_incidents,
        count(*) filter (where missing_type = 'away') as away_incidents
    from incidents
    group by 1, 2, 3
),

per_authority_year as (
    select
        current_submissions.collection_year,
        current_submissions.authority_gss,
        current_submissions.submission_id,
        coalesce(sum(per_child.incidents), 0)::bigint as incidents,
        coalesce(sum(per_child.missing_incidents), 0)::bigint as missing_incidents,
        coalesce(sum(per_child.away_incidents), 0)::bigint as away_incidents,
        count(per_child.child_key) as distinct_children,
        count(per_child.child_key) filter (where per_child.incidents >= 3) as children_missing_3_plus
    from current_submissions
    left join per_child
        on per_child.collection_year = current_submissions.collection_year
        and per_child.responsible_authority_gss = current_submissions.authority_gss
    group by 1, 2, 3
),

final as (
    select
        per_authority_year.authority_gss || ':' || per_authority_year.collection_year
            as authority_year_key,
        per_authority_year.collection_year,
        per_authority_year.authority_gss,
        authorities.authority_name,
        authorities.region_name,
        authorities.country,
        per_authority_year.incidents,
        per_authority_year.missing_incidents,
        per_authority_year.away_incidents,
        per_authority_year.distinct_children,
        per_authority_year.children_missing_3_plus,
        per_authority_year.submission_id
    from per_authority_year
    left join authorities on authorities.authority_gss = per_authority_year.authority_gss
)

select * from final
