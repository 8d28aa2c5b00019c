{#
  Models of one row per delivered row build incrementally by submission: a run adds the rows
  of current submissions not yet in the table, and removes the rows of submissions no longer
  current (superseded by a corrected return). `mfc run --full-refresh` rebuilds them whole;
  both give the same table (tests/test_incremental.py).
#}

{# pre_hook: drop the rows of submissions that are no longer current. #}
{% macro delete_not_current(submission_column, return_source) %}
    {% if is_incremental() %}
        delete from {{ this }} where {{ submission_column }} not in (
            select submission_id from {{ ref('stg_audit__submissions') }}
            where is_current and return_source = '{{ return_source }}'
        )
    {% else %}
        select 1
    {% endif %}
{% endmacro %}

{# In the model: only the current submissions the table does not hold yet. #}
{% macro not_built_yet(submission_column) %}
    {% if is_incremental() %}
        and submission_id not in (select distinct {{ submission_column }} from {{ this }})
    {% endif %}
{% endmacro %}
