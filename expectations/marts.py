"""Gate on the marts before analysts see them: assertions that must hold whatever was loaded.

Inside the warehouse, dbt tests guard each model; these re-check the published marts as a whole
from outside dbt, so a broken model or a bad join cannot reach analysts silently.
"""

from __future__ import annotations

# GX substitutes {batch} as a derived table that it aliases itself, unless the query has a JOIN;
# then the query must alias it. So: no alias without a join, an alias with one.
from dataclasses import replace

from expectations.checks import BLOCKING, Check, at_least

FCT = "fct_missing_incidents"
AGG = "agg_missing_by_authority_year"


def checks(schema: str = "marts") -> tuple[Check, ...]:
    """The checks, reading the marts in `schema`: the nightly run gates a new build in
    marts_next before it replaces the marts analysts read (mfc.mart_builds)."""
    return tuple(replace(c, query=c.query.replace("{marts}", schema)) if c.query else c
                 for c in _CHECKS)


# Queries name the marts' schema {marts}; checks() fills it in.
_CHECKS: tuple[Check, ...] = (
    Check("mfc.marts.duration_not_negative", FCT, "content", BLOCKING,
          "A missing incident ends before it starts (negative duration).",
          ("DURATION_DAYS",), at_least("duration_days", 0)),
    Check("mfc.marts.authority_known", FCT, "cross-table", BLOCKING,
          "A missing incident's responsible authority is not in dim_authorities.",
          ("RESPONSIBLE_AUTHORITY_GSS",),
          query=("select responsible_authority_gss from {batch} "
                 "where responsible_authority_gss not in "
                 "(select authority_gss from {marts}.dim_authorities)")),
    Check("mfc.marts.authority_in_force", FCT, "cross-table", BLOCKING,
          "A council-returned incident is attributed to an authority not in being in its "
          "collection year.",
          ("RESPONSIBLE_AUTHORITY_GSS", "COUNCIL_COLLECTION_YEAR"),
          query=("select f.responsible_authority_gss, f.council_collection_year "
                 "from {batch} as f "
                 "join {marts}.dim_authorities a on a.authority_gss = f.responsible_authority_gss "
                 "where a.valid_to < make_date(left(f.council_collection_year, 4)::int + 1, 3, 31) "
                 "or a.valid_from > make_date(left(f.council_collection_year, 4)::int + 1, 3, 31)"
                 )),
    Check("mfc.marts.totals_agree", AGG, "cross-table", BLOCKING,
          "Incidents by authority and year do not add up to the incidents fact.",
          ("AUTHORITY_YEAR_KEY", "INCIDENTS"),
          query=("select b.authority_year_key, b.incidents from {batch} as b "
                 "where (b.authority_gss, b.collection_year, b.incidents) not in ("
                 "select s.authority_gss, s.collection_year, count(f.incident_key) "
                 "from {marts}.agg_missing_by_authority_year s "
                 "left join {marts}.fct_missing_incidents f "
                 "on f.responsible_authority_gss = s.authority_gss "
                 "and f.council_collection_year = s.collection_year "
                 "and f.council_submission_id is not null group by 1, 2)")),
)
CHECKS = checks()
