-- One row per day, so that any dated fact can be cut by month, quarter, calendar year or
-- financial year (1 April - 31 March, the collection year of council returns).
with days as (
    select generate_series(
        '{{ var("periods_start") }}'::date, '{{ var("periods_end") }}'::date, interval '1 day'
    )::date as date_day
),

final as (
    select
        date_day,
        date_trunc('month', date_day)::date as month_start,
        to_char(date_day, 'YYYY-MM') as month_label,
        extract(year from date_day)::integer as calendar_year,
        to_char(date_day, 'YYYY') || '-Q' || extract(quarter from date_day)::integer
            as calendar_quarter,
        -- Financial year N-(N+1) runs from 1 April N to 31 March N+1.
        (extract(year from date_day)::integer
            - case when extract(month from date_day) < 4 then 1 else 0 end) as financial_year_start,
        (extract(year from date_day)::integer
            - case when extract(month from date_day) < 4 then 1 else 0 end)::text || '-'
            || lpad(((extract(year from date_day)::integer
                - case when extract(month from date_day) < 4 then 1 else 0 end + 1) % 100)::text,
                2, '0') as financial_year,
        -- Financial quarters: Q1 is April to June.
        ((extract(month from date_day)::integer + 8) % 12) / 3 + 1 as financial_quarter
    from days
)

select * from final
