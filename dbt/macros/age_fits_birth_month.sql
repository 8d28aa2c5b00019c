{#- True when a child born in birth_month (a month's first day) could be `age` whole years old
    on `on_day`: at least the age of one born on the month's last day, at most that of one born
    on its first. Councils give analysts and linkage the birth month only. -#}
{% macro age_fits_birth_month(age, on_day, birth_month) -%}
    {{ age }} between
        extract(year from age({{ on_day }}, ({{ birth_month }} + interval '1 month - 1 day')::date))
        and extract(year from age({{ on_day }}, {{ birth_month }}))
{%- endmacro %}
