{#- Pairs from `relation` (candidate police incident x council period, with days_apart and
    order_apart) where each is the other's first choice: nearest day, then the same place in
    the day's order, then line order. -#}
{% macro mutual_best(relation) -%}
    select *
    from (
        select *,
            row_number() over (
                partition by police_submission_id, police_line_no
                order by days_apart, order_apart, council_submission_id, council_line_no
            ) as police_choice,
            row_number() over (
                partition by council_submission_id, council_line_no
                order by days_apart, order_apart, police_submission_id, police_line_no
            ) as council_choice
        from {{ relation }}
    ) as ranked
    where police_choice = 1 and council_choice = 1
{%- endmacro %}
