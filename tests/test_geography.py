"""The authority register: seeds and resolver agree with each other and with the published facts."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from mfc import config
from mfc.geography import Authority, AuthorityRegister, UnknownAuthority

SEEDS = config.dbt_project_dir() / "seeds"
REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
END_OF_2023_24 = date(2024, 3, 31)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def reference(name: str) -> list[dict[str, str]]:
    if not REFERENCE.is_dir():
        pytest.skip(f"reference facts not present at {REFERENCE}")
    return read_csv(REFERENCE / name)


def uk_date(text: str) -> date | None:
    """The reference writes dates as dd/mm/yyyy."""
    return datetime.strptime(text, "%d/%m/%Y").date() if text else None


def english_las() -> list[dict[str, str]]:
    """dfe-las.csv without combined reporting rows ("940 / 941") or the forces post office."""
    return [
        r
        for r in reference("dfe-las.csv")
        if "/" not in r["new_la_code"] and r["entity_code"] in {"E06", "E08", "E09", "E10"}
    ]


@pytest.fixture(scope="module")
def register() -> AuthorityRegister:
    return AuthorityRegister.from_seed()


@pytest.fixture(scope="module")
def seed_rows() -> list[dict[str, str]]:
    return read_csv(SEEDS / "authorities.csv")


def gss(register: AuthorityRegister, identifier: str, on: str) -> str:
    return register.resolve(identifier, date.fromisoformat(on)).gss_code


# --- the seeds -------------------------------------------------------------------------------


def test_seed_columns_are_exactly_as_agreed(seed_rows: list[dict[str, str]]) -> None:
    assert list(seed_rows[0]) == [
        "gss_code", "dfe_code", "authority_name", "authority_type", "region_code",
        "region_name", "country", "pfa_code", "valid_from", "valid_to", "successor_gss_codes",
    ]  # fmt: skip
    assert list(read_csv(SEEDS / "police_forces.csv")[0]) == ["pfa_code", "force_name", "country"]
    assert list(read_csv(SEEDS / "regions.csv")[0]) == ["region_code", "region_name", "country"]


def test_seed_sizes_and_keys(seed_rows: list[dict[str, str]]) -> None:
    forces = read_csv(SEEDS / "police_forces.csv")
    regions = read_csv(SEEDS / "regions.csv")
    assert len(seed_rows) == 172 + 22
    assert Counter(r["country"] for r in seed_rows) == {"England": 172, "Wales": 22}
    assert len({r["gss_code"] for r in seed_rows}) == len(seed_rows)
    assert len(forces) == len({f["pfa_code"] for f in forces}) == 43
    assert Counter(f["pfa_code"][:3] for f in forces) == {"E23": 39, "W15": 4}
    assert [r["region_code"] for r in regions] == [f"E1200000{i}" for i in range(1, 10)] + [
        "W92000004"
    ]
    force_codes = {f["pfa_code"] for f in forces}
    region_names = {r["region_code"]: r["region_name"] for r in regions}
    for row in seed_rows:
        assert row["pfa_code"] in force_codes, row
        assert region_names[row["region_code"]] == row["region_name"], row


def test_authority_type_follows_the_entity_code(seed_rows: list[dict[str, str]]) -> None:
    types = {"E06": "unitary", "E08": "metropolitan district", "E09": "london borough",
             "E10": "county", "W06": "unitary"}  # fmt: skip
    for row in seed_rows:
        assert row["authority_type"] == types[row["gss_code"][:3]], row
        assert row["country"] == ("Wales" if row["gss_code"].startswith("W") else "England")


def test_live_counts_on_31_march_2024(register: AuthorityRegister) -> None:
    live = Counter(a.country for a in register if a.in_force_on(END_OF_2023_24))
    assert live == {"England": 153, "Wales": 22}


def test_successors_take_over_the_next_day_in_the_same_region_and_force(
    register: AuthorityRegister,
) -> None:
    for authority in register:
        if authority.valid_to is None:
            assert authority.successor_gss_codes == (), authority
            continue
        assert authority.successor_gss_codes, f"{authority.label} ended but has no successor"
        for code in authority.successor_gss_codes:
            successor = register.by_gss(code)
            assert successor.valid_from == authority.valid_to + timedelta(days=1), successor
            assert successor.region_code == authority.region_code
            assert successor.pfa_code == authority.pfa_code


@pytest.mark.parametrize(
    ("old", "new", "force"),
    [
        ("E06000028", ("E06000058",), "E23000039"),  # Bournemouth -> BCP, Dorset Police
        ("E06000029", ("E06000058",), "E23000039"),  # Poole
        ("E10000009", ("E06000059",), "E23000039"),  # Dorset county -> Dorset UA
        ("E10000002", ("E06000060",), "E23000029"),  # Buckinghamshire, Thames Valley
        ("E10000021", ("E06000061", "E06000062"), "E23000022"),  # Northamptonshire
        ("E10000006", ("E06000063", "E06000064"), "E23000002"),  # Cumbria
        ("E10000023", ("E06000065",), "E23000009"),  # North Yorkshire
        ("E10000027", ("E06000066",), "E23000036"),  # Somerset, Avon and Somerset
        ("E06000048", ("E06000057",), "E23000007"),  # Northumberland recoded, Northumbria
        ("E08000020", ("E08000037",), "E23000007"),  # Gateshead recoded
        ("E08000016", ("E08000038",), "E23000011"),  # Barnsley recoded, South Yorkshire
        ("E08000019", ("E08000039",), "E23000011"),  # Sheffield recoded
        ("E10000001", ("E06000055", "E06000056"), "E23000026"),  # Bedfordshire
        ("E10000004", ("E06000049", "E06000050"), "E23000006"),  # Cheshire
        ("E10000005", ("E06000052", "E06000053"), "E23000035"),  # Cornwall and Isles of Scilly
        ("E10000010", ("E06000047",), "E23000008"),  # Durham -> County Durham
        ("E10000022", ("E06000048",), "E23000007"),  # Northumberland county
        ("E10000026", ("E06000051",), "E23000016"),  # Shropshire, West Mercia
        ("E10000033", ("E06000054",), "E23000038"),  # Wiltshire
    ],
)
def test_reorganisations(
    register: AuthorityRegister, old: str, new: tuple[str, ...], force: str
) -> None:
    authority = register.by_gss(old)
    assert authority.successor_gss_codes == new
    assert authority.pfa_code == force
    assert all(register.by_gss(code).pfa_code == force for code in new)


def test_terminated_authorities_are_exactly_the_reorganised_ones(
    register: AuthorityRegister,
) -> None:
    assert sum(a.valid_to is not None for a in register) == 19


# --- the resolver: examples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "on", "expected"),
    [
        ("825", "2019-06-01", "E10000002"),
        ("825", "2020-03-31", "E10000002"),
        ("825", "2020-04-01", "E06000060"),
        ("825", "2021-06-01", "E06000060"),
        ("815", "2023-03-31", "E10000023"),
        ("815", "2023-06-01", "E06000065"),
        ("933", "2022-06-01", "E10000027"),
        ("933", "2023-04-01", "E06000066"),
        ("928", "2021-03-31", "E10000021"),
        ("940", "2021-04-01", "E06000061"),
        ("941", "2024-03-31", "E06000062"),
        ("909", "2022-01-01", "E10000006"),
        ("942", "2023-04-01", "E06000063"),
        ("943", "2023-04-01", "E06000064"),
        ("837", "2019-03-31", "E06000028"),
        ("839", "2019-04-01", "E06000058"),
        ("838", "2019-04-01", "E06000059"),
        ("929", "2012-06-01", "E06000048"),
        ("929", "2013-04-01", "E06000057"),
        ("390", "2013-03-31", "E08000020"),
        ("390", "2013-04-01", "E08000037"),
        ("370", "2025-04-30", "E08000016"),
        ("370", "2025-05-01", "E08000038"),
        ("373", "2024-03-31", "E08000019"),
        ("806", "2024-03-31", "E06000002"),
        ("201", "2024-03-31", "E09000001"),
        ("420", "2024-03-31", "E06000053"),
        ("660", "2024-03-31", "W06000001"),
        ("681", "2024-03-31", "W06000015"),
        (" 825 ", "2021-06-01", "E06000060"),
    ],
)
def test_dfe_code_resolves_to_the_holder_on_the_date(
    register: AuthorityRegister, identifier: str, on: str, expected: str
) -> None:
    assert gss(register, identifier, on) == expected


@pytest.mark.parametrize(
    ("identifier", "on", "expected"),
    [
        ("E06000060", "2021-06-01", "E06000060"),
        ("e06000060", "2021-06-01", "E06000060"),
        ("  E06000023\t", "2024-03-31", "E06000023"),
        ("E10000002", "2020-03-31", "E10000002"),
        ("W06000023", "2024-03-31", "W06000023"),
        ("w06000024", "2015-01-01", "W06000024"),
        ("E08000016", "2024-03-31", "E08000016"),
        ("E08000038", "2025-05-01", "E08000038"),
    ],
)
def test_gss_code_resolves_while_in_force(
    register: AuthorityRegister, identifier: str, on: str, expected: str
) -> None:
    assert gss(register, identifier, on) == expected


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("Bristol, City of", "E06000023"),
        ("City of Bristol", "E06000023"),
        ("bristol", "E06000023"),
        ("  BRISTOL  ", "E06000023"),
        ("Kingston upon Hull, City of", "E06000010"),
        ("Kingston upon Hull", "E06000010"),
        ("City of Kingston upon Hull", "E06000010"),
        ("kingston-upon-hull", "E06000010"),
        ("Kingston upon Thames", "E09000021"),
        ("Herefordshire, County of", "E06000019"),
        ("Herefordshire", "E06000019"),
        ("County of Herefordshire", "E06000019"),
        ("St Helens", "E08000013"),
        ("St. Helens", "E08000013"),
        ("st.helens", "E08000013"),
        ("Telford & Wrekin", "E06000020"),
        ("Telford and Wrekin", "E06000020"),
        ("Westmorland & Furness", "E06000064"),
        ("Hammersmith & Fulham", "E09000013"),
        ("Bournemouth, Christchurch & Poole", "E06000058"),
        ("Stockton on Tees", "E06000004"),
        ("City of London", "E09000001"),
        ("County Durham", "E06000047"),
        ("Isle of Anglesey", "W06000001"),
        ("Rhondda Cynon Taf", "W06000016"),
        ("Vale of Glamorgan", "W06000014"),
        ("Merthyr Tydfil", "W06000024"),
        ("Neath Port Talbot", "W06000012"),
        ("Powys", "W06000023"),
    ],
)
def test_name_resolves_whatever_the_case_and_punctuation(
    register: AuthorityRegister, identifier: str, expected: str
) -> None:
    assert gss(register, identifier, "2024-03-31") == expected


@pytest.mark.parametrize(
    ("name", "on", "expected"),
    [
        ("Northumberland", "2009-03-31", "E10000022"),
        ("Northumberland", "2009-04-01", "E06000048"),
        ("Northumberland", "2013-03-31", "E06000048"),
        ("Northumberland", "2013-04-01", "E06000057"),
        ("Buckinghamshire", "2019-06-01", "E10000002"),
        ("Buckinghamshire", "2021-06-01", "E06000060"),
        ("North Yorkshire", "2022-06-01", "E10000023"),
        ("North Yorkshire", "2023-06-01", "E06000065"),
        ("Dorset", "2019-03-31", "E10000009"),
        ("Dorset", "2019-04-01", "E06000059"),
        ("Somerset", "2023-03-31", "E10000027"),
        ("Somerset", "2023-04-01", "E06000066"),
        ("Gateshead", "2012-01-01", "E08000020"),
        ("Gateshead", "2014-01-01", "E08000037"),
        ("Sheffield", "2024-03-31", "E08000019"),
        ("Sheffield", "2025-06-01", "E08000039"),
        ("Durham", "2009-03-31", "E10000010"),
        ("Durham", "2015-03-31", "E06000047"),  # as DfE's 2015-2017 statistics name it
        ("Shropshire", "2009-01-01", "E10000026"),
        ("Shropshire", "2009-04-01", "E06000051"),
    ],
)
def test_a_name_held_by_successive_authorities_is_decided_by_the_date(
    register: AuthorityRegister, name: str, on: str, expected: str
) -> None:
    assert gss(register, name, on) == expected


# --- the resolver: refusals ------------------------------------------------------------------


def refusal(register: AuthorityRegister, identifier: str, on: str) -> str:
    with pytest.raises(UnknownAuthority) as caught:
        register.resolve(identifier, date.fromisoformat(on))
    message = str(caught.value)
    assert repr(identifier) in message and on in message, message
    return message


def test_northamptonshire_code_after_the_split_names_both_successors(
    register: AuthorityRegister,
) -> None:
    message = refusal(register, "928", "2021-06-01")
    assert "ended on 2021-03-31" in message
    assert "North Northamptonshire (E06000061, DfE 940)" in message
    assert "West Northamptonshire (E06000062, DfE 941)" in message


def test_bournemouth_after_2019_names_bcp(register: AuthorityRegister) -> None:
    message = refusal(register, "837", "2019-06-01")
    assert "Bournemouth, Christchurch and Poole (E06000058, DfE 839)" in message


@pytest.mark.parametrize(
    ("identifier", "on", "use_instead"),
    [
        ("836", "2020-01-01", "Bournemouth, Christchurch and Poole (E06000058, DfE 839)"),
        ("Poole", "2020-01-01", "Bournemouth, Christchurch and Poole (E06000058, DfE 839)"),
        ("835", "2019-04-01", "Dorset (E06000059, DfE 838)"),
        ("E10000002", "2021-06-01", "Buckinghamshire (E06000060, DfE 825)"),
        ("909", "2023-04-01", "Cumberland (E06000063, DfE 942)"),
        ("Cumbria", "2024-03-31", "Westmorland and Furness (E06000064, DfE 943)"),
        ("E10000023", "2024-03-31", "North Yorkshire (E06000065, DfE 815)"),
        ("E08000020", "2015-01-01", "Gateshead (E08000037, DfE 390)"),
        ("E08000016", "2025-05-01", "Barnsley (E08000038, DfE 370)"),
        ("820", "2010-01-01", "Central Bedfordshire (E06000056, DfE 823)"),
        ("875", "2010-01-01", "Cheshire West and Chester (E06000050, DfE 896)"),
        ("Bedfordshire", "2010-01-01", "Bedford (E06000055, DfE 822)"),
        # Followed through two reorganisations: the 2009 county, then the 2013 recoding.
        ("E10000022", "2015-01-01", "Northumberland (E06000057, DfE 929)"),
        # Before an authority began: the one in force then.
        ("940", "2020-06-01", "Northamptonshire (E10000021, DfE 928)"),
        ("E06000060", "2019-06-01", "Buckinghamshire (E10000002, DfE 825)"),
        ("E08000038", "2024-03-31", "Barnsley (E08000016, DfE 370)"),
        ("Cumberland", "2022-01-01", "Cumbria (E10000006, DfE 909)"),
    ],
)
def test_an_authority_not_in_force_names_what_to_use_instead(
    register: AuthorityRegister, identifier: str, on: str, use_instead: str
) -> None:
    message = refusal(register, identifier, on)
    assert f"use {use_instead}" in message or f"or {use_instead}" in message, message


def test_the_northumberland_chain_skips_the_intermediate_authority(
    register: AuthorityRegister,
) -> None:
    assert "E06000048" not in refusal(register, "E10000022", "2015-01-01")


@pytest.mark.parametrize(
    "identifier",
    ["999", "Narnia", "E06999999", "e10000099", "940 / 941", "314 / 318", "", "E07000001"],
)
def test_unknown_identifiers_are_refused(register: AuthorityRegister, identifier: str) -> None:
    message = refusal(register, identifier, "2024-03-31")
    assert "GSS code" in message and "DfE code" in message  # says what to give instead


def test_before_the_series_begins(register: AuthorityRegister) -> None:
    assert "no authority in the register" in refusal(register, "Northumberland", "2008-01-01")


def test_unknown_authority_is_a_value_error() -> None:
    assert issubclass(UnknownAuthority, ValueError)


def test_by_gss_ignores_dates_and_case(register: AuthorityRegister) -> None:
    northants = register.by_gss(" e10000021 ")
    assert northants == Authority(
        gss_code="E10000021",
        dfe_code="928",
        name="Northamptonshire",
        region_code="E12000004",
        country="England",
        pfa_code="E23000022",
        valid_from=date(2009, 1, 1),
        valid_to=date(2021, 3, 31),
        successor_gss_codes=("E06000061", "E06000062"),
    )
    assert register.by_gss("E10000005").dfe_code is None  # DfE publishes 'x'
    with pytest.raises(UnknownAuthority, match="E99"):
        register.by_gss("E99999999")


def test_in_force_on_is_inclusive_at_both_ends(register: AuthorityRegister) -> None:
    bucks = register.by_gss("E10000002")
    assert bucks.in_force_on(date(2009, 1, 1)) and bucks.in_force_on(date(2020, 3, 31))
    assert not bucks.in_force_on(date(2008, 12, 31)) and not bucks.in_force_on(date(2020, 4, 1))
    assert register.by_gss("E06000060").in_force_on(date(2100, 1, 1))


def test_from_seed_reads_a_given_path(tmp_path: Path) -> None:
    seed = tmp_path / "authorities.csv"
    rows = (SEEDS / "authorities.csv").read_text(encoding="utf-8").splitlines()
    seed.write_text("\n".join(rows[:3]) + "\n", encoding="utf-8")
    small = AuthorityRegister.from_seed(seed)
    assert [a.gss_code for a in small] == ["E06000001", "E06000002"]


# --- every seed row resolves by each of its identifiers ----------------------------------------


def days_in_force(authority: Authority) -> list[date]:
    """First and last day; any overlap of two authorities includes the later one's first day."""
    return [authority.valid_from, authority.valid_to or max(authority.valid_from, END_OF_2023_24)]


def test_every_authority_resolves_by_gss_dfe_code_and_name(register: AuthorityRegister) -> None:
    for authority in register:
        for day in days_in_force(authority):
            assert register.resolve(authority.gss_code, day) is authority
            assert register.resolve(authority.gss_code.lower(), day) is authority
            assert register.resolve(authority.name, day) is authority, (authority, day)
            assert register.resolve(authority.name.upper(), day) is authority
            if authority.dfe_code:
                assert register.resolve(authority.dfe_code, day) is authority, (authority, day)


# --- agreement with the published reference facts --------------------------------------------


def test_england_la_pfa_agrees(register: AuthorityRegister) -> None:
    for ref in reference("england-la-pfa.csv"):
        authority = register.by_gss(ref["new_la_code"])
        assert authority.dfe_code == (None if ref["old_la_code"] == "x" else ref["old_la_code"])
        assert authority.name == ref["la_name"]
        assert authority.region_code == ref["region_code"]
        assert authority.pfa_code == ref["pfa_code"]
        assert authority.valid_from == uk_date(ref["date_of_operation"])
        assert authority.valid_to == uk_date(ref["date_of_termination"])


def test_wales_las_agrees(register: AuthorityRegister) -> None:
    welsh = reference("wales-las.csv")
    assert len(welsh) == 22
    assert {a.gss_code for a in register if a.country == "Wales"} == {
        r["new_la_code"] for r in welsh
    }
    for ref in welsh:
        authority = register.by_gss(ref["new_la_code"])
        assert (authority.dfe_code, authority.name) == (ref["old_la_code"], ref["la_name"])
        assert authority.region_code == "W92000004"
        assert authority.pfa_code == ref["pfa_code"]
        assert authority.valid_to is None


def test_dfe_las_agrees(register: AuthorityRegister) -> None:
    las = english_las()
    assert {a.gss_code for a in register if a.country == "England"} == {
        r["new_la_code"] for r in las
    }
    for ref in las:
        authority = register.by_gss(ref["new_la_code"])
        assert authority.region_code == ref["parent_geography_code"]
        assert authority.valid_from == uk_date(ref["date_of_operation"])
        if ref["status"] == "live":
            assert authority.valid_to is None, authority
        else:
            assert authority.valid_to == uk_date(ref["date_of_termination"]), authority


def test_police_forces_agree() -> None:
    published = {
        r["pfa_code"]: r["pfa_name"]
        for r in reference("dfe-police-force-areas.csv")
        if r["pfa_code"][:3] in {"E23", "W15"}
    }
    ours = {r["pfa_code"]: r["force_name"] for r in read_csv(SEEDS / "police_forces.csv")}
    assert ours == published
    assert len(ours) == 43


def test_regions_agree() -> None:
    published = {
        r["region_code"]: r["region_name"]
        for r in reference("dfe-regions.csv")
        if r["region_code"].startswith("E12")
    }
    ours = {r["region_code"]: r["region_name"] for r in read_csv(SEEDS / "regions.csv")}
    assert ours == published | {"W92000004": "Wales"}


def test_live_counts_agree_with_the_reference(register: AuthorityRegister) -> None:
    def live(ref: dict[str, str]) -> bool:
        begun = uk_date(ref["date_of_operation"]) <= END_OF_2023_24
        ended = uk_date(ref["date_of_termination"])
        return begun and (ended is None or ended >= END_OF_2023_24)

    published_england = sum(live(r) for r in english_las())
    published_wales = len(reference("wales-las.csv"))
    ours = Counter(a.country for a in register if a.in_force_on(END_OF_2023_24))
    assert (ours["England"], ours["Wales"]) == (published_england, published_wales) == (153, 22)


def test_looked_after_figures_resolve_to_authorities_live_at_31_march() -> None:
    """DfE's per-authority statistics carry the GSS and DfE codes live at each 31 March."""
    register = AuthorityRegister.from_seed()
    for ref in reference("la-looked-after.csv"):
        on = date(int(ref["year"]), 3, 31)
        authority = register.resolve(ref["new_la_code"], on)
        assert authority.dfe_code == ref["old_la_code"], ref
        assert register.resolve(ref["old_la_code"], on) is authority, ref
        assert register.resolve(ref["la_name"], on) is authority, ref
