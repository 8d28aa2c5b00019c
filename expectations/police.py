"""Gate checks for the police return (docs/returns/police.md lists them for force data teams).

Each GX query reads the landing rows of a batch of month files as `{batch}`: the columns as
delivered (lower-case, trimmed, blank = null), their dates and times parsed once as they land
(dob_date, reported_at, found_at: null when not valid), what the file's folder and name say
(folder_force, file_month) and responsible_gss, the RESPONSIBLE_LA the register resolved. A
query returns each offending row with its submission_id and line_no; examples show the values
that are wrong, never a PERSON_REF, nor a date of birth that is a valid date.
"""

from __future__ import annotations

from expectations.checks import BLOCKING, WARNING, Check
from mfc.returns.police import INCIDENTS, force_codes

TABLE = INCIDENTS.name
DISTRICT = "^[A-Z]{{1,2}}[0-9][A-Z0-9]?$"
RISKS = ("NO_APPARENT", "LOW", "MEDIUM", "HIGH")


def _rows(columns: str, where: str) -> str:
    return f"select submission_id, line_no, {columns} from {{batch}} where {where}"


def _listed(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


# The age when reported: from DOB when it is a valid date, else AGE.
_AGE = ("coalesce(landing.age_on(dob_date, "
        "reported_at::date), "
        "case when age ~ '^\\d{{1,3}}$' then age::int end)")

# Checks of the delivery, run in Python before GX reads anything.
SUBMISSION: tuple[Check, ...] = (
    Check("police.submission.force", None, "file", BLOCKING,
          "The folder must be the force's police force area GSS code, e.g. E23000013 "
          "(landing/police/<force>/<YYYY-MM>.csv)."),
    Check("police.submission.month", None, "file", BLOCKING,
          "The file must be named for the calendar month it covers, as YYYY-MM.csv, "
          "e.g. 2024-03.csv."),
    Check("police.file.readable", None, "file", BLOCKING,
          "The file must be a comma-separated UTF-8 text file with the column names on line 1 "
          "and the same number of fields on every line."),
    Check("police.columns", TABLE, "structure", BLOCKING,
          "Every column must be present: " + ", ".join(INCIDENTS.columns) + "."),
)

CONTENT: tuple[Check, ...] = (
    Check("police.force", TABLE, "content", BLOCKING,
          "FORCE must be one of the 43 force codes and the same as the folder the file is in.",
          ("FORCE",),
          query=(_rows("force", f"force is null or force <> folder_force "
                                f"or force not in ({_listed(force_codes())})"))),
    Check("police.incident_ref", TABLE, "content", BLOCKING,
          "INCIDENT_REF must be given and unique within the force: not repeated in the file, "
          "and not used in another month's file from the same force.",
          ("INCIDENT_REF",),
          # Other months: in this batch, or in loaded files of the force for other months.
          query=(
              "select submission_id, line_no, incident_ref from ("
              "select submission_id, line_no, incident_ref, folder_force, file_month, "
              "count(*) over (partition by submission_id, incident_ref) as in_file, "
              "min(file_month) over (partition by folder_force, incident_ref) as first_month, "
              "max(file_month) over (partition by folder_force, incident_ref) as last_month "
              "from {batch} as batch) delivered "
              "where incident_ref is null or in_file > 1 or first_month <> last_month "
              "or exists (select 1 from raw.police_incidents r "
              "join audit.submissions s on s.submission_id = r.submission_id "
              "where s.status = 'loaded' and r.force = delivered.folder_force "
              "and r.incident_ref = delivered.incident_ref "
              "and s.period_start <> delivered.file_month)"),
          compares_submissions=True),
    Check("police.reported_missing", TABLE, "content", BLOCKING,
          "REPORTED_MISSING must be a valid date and time (dd/mm/yyyy HH:MM) within the file's "
          "month.", ("REPORTED_MISSING",),
          query=(_rows("reported_missing",
                                "reported_at is null or "
                                "date_trunc('month', reported_at)"
                                "::date <> file_month"))),
    Check("police.found", TABLE, "content", BLOCKING,
          "FOUND, when given, must be a valid date and time (dd/mm/yyyy HH:MM) at or after "
          "REPORTED_MISSING.", ("REPORTED_MISSING", "FOUND"),
          query=(_rows("reported_missing, found",
                                "found is not null and (found_at is null "
                                "or found_at "
                                "< reported_at)"))),
    Check("police.dob_or_age", TABLE, "content", BLOCKING,
          "DOB or AGE must be given; DOB a valid date (dd/mm/yyyy), AGE a whole number.",
          ("DOB", "AGE"),
          query=(_rows("case when dob_date is null then dob end as dob, age",
                                "(dob is null and age is null) "
                                "or (dob is not null and dob_date is null) "
                                "or (age is not null and age !~ '^\\d{{1,3}}$')"))),
    Check("police.under_18", TABLE, "content", BLOCKING,
          "The child must be under 18 when reported missing (worked out from DOB when given, "
          "otherwise AGE 0 to 17), and born before it.",
          # The age worked out, never the date of birth: a valid one must not leave raw.
          ("AGE_AT_REPORT", "AGE", "REPORTED_MISSING"),
          query=(_rows(f"{_AGE} as age_at_report, age, reported_missing",
                                f"{_AGE} not between 0 and 17 or dob_date > "
                                "reported_at::date"))),
    Check("police.sex", TABLE, "content", BLOCKING,
          "SEX must be M, F or U.", ("SEX",),
          query=(_rows("sex", "sex is null or sex not in ('M', 'F', 'U')"))),
    Check("police.risk", TABLE, "content", BLOCKING,
          "RISK must be NO_APPARENT, LOW, MEDIUM or HIGH.", ("RISK",),
          query=(_rows("risk", f"risk is null or risk not in ({_listed(RISKS)})"))),
    Check("police.looked_after", TABLE, "content", WARNING,
          "LOOKED_AFTER must be Y, N or blank. Other values are read as blank (not known).",
          ("LOOKED_AFTER",),
          query=(_rows("looked_after", "looked_after not in ('Y', 'N')"))),
    Check("police.responsible_la", TABLE, "content", WARNING,
          "RESPONSIBLE_LA, when given, must name a children's services authority in being on "
          "the date reported missing, by GSS code, DfE code or name. Other values are read as "
          "blank (not known).", ("RESPONSIBLE_LA", "REPORTED_MISSING"),
          query=(_rows("responsible_la, reported_missing",
                                "responsible_la is not null and responsible_gss is null"))),
    Check("police.districts", TABLE, "content", BLOCKING,
          "PLACEMENT_DISTRICT must be given and each district must look like a postcode "
          "district (e.g. TS1, TS17, SW1A), never a full postcode.",
          ("PLACEMENT_DISTRICT", "FOUND_DISTRICT"),
          query=(_rows("placement_district, found_district",
                                f"placement_district is null "
                                f"or placement_district !~ '{DISTRICT}' "
                                f"or found_district !~ '{DISTRICT}'"))),
)

ALL: tuple[Check, ...] = SUBMISSION + CONTENT
