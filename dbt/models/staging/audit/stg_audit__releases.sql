with source as (
    select * from {{ source('audit', 'releases') }}
),

renamed as (
    select
        submission_id,
        released_by,
        released_at,
        reason as release_reason,
        array_to_string(failed_checks, ', ') as failed_checks_when_released,
        outcome is null as is_loaded_by_release
    from source
)

select * from renamed
