"""How well the gates catch the defects mfc synth injected (truth/defects.csv): `mfc dq-eval`.

A row defect is caught when the check the manifest names kept that line of that file among its
failing rows (dq.failing_rows); a file defect when that check warned or failed on the
submission. Findings on clean rows are failing rows at lines no defect touched. The warehouse
must have gated the synthetic landing folder (and resubmissions/1 before it) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from mfc.synth.defects import FILE_KINDS

# The manifest, matched to the submission whose folder it names; a duplicated period's first
# copy is part of the defect, as the duplicate check rightly names both lines.
MATCH = """
create temp table manifest (file text, line text, column_name text, kind text, check_id text);
"""

PER_KIND = """
with defects as (
    select manifest.*, s.submission_id,
           regexp_replace(manifest.file, '^.*/', '') as file_name,
           nullif(manifest.line, '')::int as line_no
    from manifest
    left join audit.submissions s
      on s.source = 'council'
     and s.landing_path like '%%/' || regexp_replace(manifest.file, '/[^/]*$', '')
),
judged as (
    select kind, check_id,
           case when kind = any(%(file_kinds)s) then exists (
                    select from dq.check_results r where r.submission_id = d.submission_id
                       and r.check_id = d.check_id and r.result in ('FAIL', 'WARNING'))
                else exists (
                    select from dq.failing_rows f where f.submission_id = d.submission_id
                       and f.check_id = d.check_id and f.file_name = d.file_name
                       and f.line_no = d.line_no) end as caught,
           exists (select from dq.failing_rows f where f.submission_id = d.submission_id
                      and f.check_id <> d.check_id and f.file_name = d.file_name
                      and f.line_no = d.line_no) as flagged_by_other,
           submission_id is null as unmatched
    from defects d
)
select kind, check_id, count(*) as injected, count(*) filter (where caught) as caught,
       count(*) filter (where not caught and flagged_by_other) as other_only,
       count(*) filter (where flagged_by_other) as flagged_by_other,
       count(*) filter (where unmatched) as not_gated
from judged group by kind, check_id order by kind
"""

CLEAN_FINDINGS = """
with touched as (
    select s.submission_id, regexp_replace(m.file, '^.*/', '') as file_name,
           nullif(m.line, '')::int + shift as line_no
    from manifest m
    join audit.submissions s
      on s.source = 'council' and s.landing_path like '%%/' || regexp_replace(m.file, '/[^/]*$', '')
    cross join lateral (values (0), (case when m.kind = 'duplicate_period' then -1 else 0 end))
        shifts (shift)
),
file_defects as (
    select distinct s.submission_id
    from manifest m
    join audit.submissions s
      on s.source = 'council' and s.landing_path like '%%/' || regexp_replace(m.file, '/[^/]*$', '')
    where m.kind = any(%(file_kinds)s)
)
select f.check_id, r.result, count(*)
from dq.failing_rows f
join dq.check_results r using (submission_id, run_id, check_id)
join audit.submissions s using (submission_id)
where s.source = 'council' and f.line_no is not null
  and submission_id not in (select submission_id from file_defects)
  and (f.submission_id, f.file_name, f.line_no) not in (select * from touched)
group by 1, 2 order by 3 desc, 1
"""


@dataclass
class KindResult:
    kind: str
    check_id: str
    injected: int
    caught: int
    other_only: int
    flagged_by_other: int
    not_gated: int


@dataclass
class Evaluation:
    kinds: list[KindResult]
    clean_findings: list[tuple[str, str, int]]   # check, result, failing rows on clean lines
    failed_submissions: int                      # submissions with a FAIL of any kind
    clean_submissions_failed: list[int]          # ... among those with no injected defect

    @property
    def injected(self) -> int:
        return sum(k.injected for k in self.kinds)

    @property
    def caught(self) -> int:
        return sum(k.caught for k in self.kinds)


def evaluate(url: str, truth_dir: Path) -> Evaluation:
    manifest = truth_dir / "truth" / "defects.csv"
    if not manifest.exists():
        manifest = truth_dir / "defects.csv"
    file_kinds = list(FILE_KINDS)
    with psycopg.connect(url) as conn:
        conn.execute(MATCH)
        with conn.cursor().copy("copy manifest from stdin (format csv, header true)") as copy, \
                manifest.open("rb") as source:
            copy.write(source.read())
        kinds = [KindResult(*row) for row in
                 conn.execute(PER_KIND, {"file_kinds": file_kinds}).fetchall()]
        clean = conn.execute(CLEAN_FINDINGS, {"file_kinds": file_kinds}).fetchall()
        failed = conn.execute(
            "select distinct submission_id from dq.check_results join audit.submissions "
            "using (submission_id) where result = 'FAIL' and source = 'council' "
            "order by 1").fetchall()
        clean_failed = conn.execute(
            "select distinct r.submission_id from dq.check_results r join audit.submissions s "
            "using (submission_id) where r.result = 'FAIL' and s.source = 'council' "
            "and not exists (select from manifest m where s.landing_path like '%/' || "
            "regexp_replace(m.file, '/[^/]*$', '')) order by 1").fetchall()
    return Evaluation(kinds, clean, len(failed), [r[0] for r in clean_failed])


def table(evaluation: Evaluation) -> str:
    """The evaluation as text tables: per defect kind, then findings on clean rows."""
    lines = [f"{'defect kind':<24} {'named check':<30} {'injected':>8} {'caught':>7} "
             f"{'%':>6} {'other':>6} {'missed':>6}"]
    for k in evaluation.kinds:
        share = f"{k.caught / k.injected:.0%}" if k.injected else "-"
        lines.append(f"{k.kind:<24} {k.check_id:<30} {k.injected:>8} {k.caught:>7} "
                     f"{share:>6} {k.flagged_by_other:>6} "
                     f"{k.injected - k.caught - k.other_only:>6}")
    total = evaluation.injected
    lines.append(f"{'all':<24} {'':<30} {total:>8} {evaluation.caught:>7} "
                 f"{(evaluation.caught / total if total else 1):>6.1%}")
    lines += ["", "other: of the injected, also flagged by another check; missed: by none.",
              "", "Findings on clean rows (rows no defect touched, in returns with no file "
              "defect):"]
    if not evaluation.clean_findings:
        lines.append("  none")
    for check_id, result, count in evaluation.clean_findings:
        lines.append(f"  {check_id:<30} {result:<8} {count:>7}")
    lines.append(f"\nReturns with a FAIL: {evaluation.failed_submissions}; of them with no "
                 f"injected defect: {len(evaluation.clean_submissions_failed)}")
    return "\n".join(lines)
