with source as (
    select * from {{ source('audit', 'submissions') }}
),

renamed as (
    select
        submission_id,
        source as return_source,
        authority_gss,
        authority_as_delivered,
        collection_year,
        period_start,
        period_end,
        received_at,
        delivered_at,
        status,
        superseded_by,
        status = 'loaded' as is_current
    from source
)

select * from renamed
