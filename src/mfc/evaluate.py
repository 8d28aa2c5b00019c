"""How close the warehouse comes to the synthetic truth (mfc synth writes it under truth/).

Counts: incidents and distinct children per financial year, nationally and per responsible
authority. Linkage: precision and recall, pairwise, of incident merging (pairs of a council
row and a police row made one incident) and of child linkage (pairs of records, an
authority's CHILD or a force's PERSON_REF, made one child).

The truth is what the loaded files hold: an incident counts if one of its rows is in a current
(loaded, not superseded) file; a record if it is in the warehouse.
"""

from __future__ import annotations

from math import comb
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg

from mfc import config
from mfc.pseudonymise import keyed_hash

# Authorities are judged on their own only when they have at least this many children missing.
AUTHORITY_MIN_CHILDREN = 50


def _file_key(path: str) -> str:
    """council/<authority>/<year>/missing.csv or police/<force>/<month>.csv: the part of a path
    from the source folder on, the same for the synth's truth and the warehouse's audit."""
    parts = Path(path).parts
    for source, depth in (("council", 4), ("police", 3)):
        if source in parts:
            return "/".join(parts[parts.index(source):][:depth])
    return path


def _financial_year(stamp: pd.Series) -> pd.Series:
    start = stamp.dt.year - (stamp.dt.month < 4).astype(int)
    return start.astype(str) + "-" + ((start + 1) % 100).astype(str).str.zfill(2)


def _pairs(sizes: pd.Series) -> int:
    return int(sum(comb(int(n), 2) for n in sizes))


def _precision_recall(true_positive: int, predicted: int, actual: int) -> dict[str, Any]:
    return {"pairs_predicted": predicted, "pairs_true": actual, "pairs_correct": true_positive,
            "precision": round(true_positive / predicted, 4) if predicted else None,
            "recall": round(true_positive / actual, 4) if actual else None}


def _error(truth: int, warehouse: int) -> dict[str, Any]:
    return {"truth": truth, "warehouse": warehouse,
            "error_pct": round(100 * (warehouse - truth) / truth, 2) if truth else None}


def _read_warehouse(url: str) -> dict[str, pd.DataFrame]:
    with psycopg.connect(url) as conn:
        def frame(sql: str) -> pd.DataFrame:
            cur = conn.execute(sql)
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description])

        return {
            "files": frame(
                "select s.submission_id, s.landing_path || '/' || f.file_name as path "
                "from audit.submissions s join audit.submission_files f using (submission_id) "
                "where s.status = 'loaded' and f.table_name in ('missing', 'incidents')"),
            "facts": frame(
                "select child_id, financial_year, responsible_authority_gss, "
                "council_submission_id, council_line_no, police_submission_id, police_line_no "
                "from marts.fct_missing_incidents"),
            "identities": frame(
                "select record_source, record_key, child_id from intermediate.int_identities"),
            "returned": frame(
                "select authority_gss, collection_year from audit.submissions "
                "where source = 'council' and status = 'loaded'"),
        }


def evaluate(url: str, truth_dir: Path) -> dict[str, Any]:
    if (truth_dir / "truth").is_dir():
        truth_dir = truth_dir / "truth"
    w = _read_warehouse(url)
    files = dict(zip(w["files"].submission_id, w["files"].path.map(_file_key), strict=True))

    records = pd.read_csv(truth_dir / "records.csv", dtype={"file": str})
    records["file"] = records["file"].map(_file_key)
    records = records[records["file"].isin(set(files.values()))]
    incidents = pd.read_csv(truth_dir / "incidents.csv", dtype=str)
    incidents = incidents[incidents.true_incident_id.astype(int).isin(records.true_incident_id)]
    incidents["financial_year"] = _financial_year(
        pd.to_datetime(incidents.reported_missing, format="%d/%m/%Y %H:%M"))

    facts = w["facts"]
    years = {}
    for year in sorted(set(incidents.financial_year) | set(facts.financial_year)):
        t = incidents[incidents.financial_year == year]
        f = facts[facts.financial_year == year]
        years[year] = {"incidents": _error(len(t), len(f)),
                       "distinct_children": _error(t.true_child_id.nunique(),
                                                   f.child_id.nunique())}

    # Authorities are judged in the years they made a council return that was loaded.
    authorities = []
    returned = set(zip(w["returned"].collection_year, w["returned"].authority_gss, strict=True))
    by_truth = incidents.groupby(["financial_year", "responsible_gss"])
    by_warehouse = facts.groupby(["financial_year", "responsible_authority_gss"])
    warehouse_counts = {k: (len(g), g.child_id.nunique()) for k, g in by_warehouse}
    for (year, gss), t in by_truth:
        children = t.true_child_id.nunique()
        if children < AUTHORITY_MIN_CHILDREN or (year, gss) not in returned:
            continue
        n, c = warehouse_counts.get((year, gss), (0, 0))
        authorities.append({"financial_year": year, "authority_gss": gss,
                            "incidents": _error(len(t), n),
                            "distinct_children": _error(children, c)})

    # Merging: every (council row, police row) pair made one incident, against the true pairs.
    where = records.set_index(["file", "line"]).true_incident_id

    def incident_of(sid: pd.Series, line: pd.Series) -> pd.Series:
        keys = list(zip(sid.map(files), line.astype(int), strict=True))
        return pd.Series(where.reindex(keys).to_numpy(), index=sid.index)

    both = facts.dropna(subset=["council_line_no", "police_line_no"])
    matched = (incident_of(both.council_submission_id, both.council_line_no)
               == incident_of(both.police_submission_id, both.police_line_no))
    sources = records.assign(source=records.file.str.split("/").str[0])
    per_incident = sources.groupby(["true_incident_id", "source"]).size().unstack(fill_value=0)
    true_pairs = int((per_incident.get("council", 0) * per_incident.get("police", 0)).sum())
    merging = _precision_recall(int(matched.sum()), len(both), true_pairs)

    # Child linkage: records as the warehouse keys them, against the true child of each.
    key = config.pseudonymisation_key()
    children = pd.read_csv(truth_dir / "children.csv", dtype=str)
    children["record_key"] = [keyed_hash(f"{a}:{i}", key) for a, i
                              in zip(children.authority_or_force, children.local_id, strict=True)]
    linked = w["identities"].merge(children[["source", "record_key", "true_child_id"]],
                                   left_on=["record_source", "record_key"],
                                   right_on=["source", "record_key"])
    linkage = _precision_recall(
        _pairs(linked.groupby(["child_id", "true_child_id"]).size()),
        _pairs(linked.groupby("child_id").size()),
        _pairs(linked.groupby("true_child_id").size()))
    linkage["records_matched_to_truth"] = len(linked)
    linkage["records_in_warehouse"] = len(w["identities"])

    reported = _reported(url, truth_dir)
    worst = max((abs(a["incidents"]["error_pct"]) for a in authorities), default=None)
    return {"truth": str(truth_dir), "years": years,
            "authorities": {"min_children": AUTHORITY_MIN_CHILDREN, "count": len(authorities),
                            "worst_incidents_error_pct": worst,
                            "worst_children_error_pct": max(
                                (abs(a["distinct_children"]["error_pct"]) for a in authorities),
                                default=None),
                            "rows": authorities},
            "incident_merging": merging, "child_linkage": linkage,
            **({"reported_vs_measured": reported} if reported else {})}


def _reported(url: str, truth_dir: Path) -> dict[str, Any] | None:
    """The comparison mart's measured side against the true value of each synthetic reported
    figure (truth/reported.csv): how many are exact, and the worst difference."""
    path = truth_dir / "reported.csv"
    if not path.exists():
        return None
    truth = pd.read_csv(path, dtype={"file": str})
    truth["folder"] = truth.file.str.split("/").str[-2]
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select v.delivered_by, v.source_line_no, v.area_type, m.measured "
            "from marts.fct_reported_values v "
            "join marts.agg_reported_vs_measured m using (value_key)").fetchall()
    measured = pd.DataFrame(rows, columns=["folder", "line", "area_type", "measured"])
    both = truth.merge(measured, on=["folder", "line"])
    both["difference"] = both.measured - both.true_value
    both["pct"] = (100 * both.difference / both.true_value.where(both.true_value > 0)).abs()
    by_type = {kind: {"values": len(g), "exact": int((g.difference == 0).sum()),
                      "worst_difference": int(g.difference.abs().max()),
                      "worst_pct_of_figures_of_50_or_more": round(float(
                          g.pct[g.true_value >= 50].max()), 2) if (g.true_value >= 50).any()
                      else None}
               for kind, g in both.groupby("area_type")}
    return {"values_in_truth": len(truth), "values_compared": len(both), "by_area_type": by_type}
