"""Walking several columns together gives what per-column walks give, in fewer requests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sobriety.snmp.snmprec import RecordedTransport, Recording, load_snmprec
from sobriety.snmp.transport import RequestStats, walk, walk_columns
from sobriety.snmp.types import Oid, Tag, VarBind, parse_oid

ROOT = Path(__file__).resolve().parents[2]
BASE = (1, 3, 6, 1, 4, 1, 99999, 1, 1)


def recording(oids: Sequence[Oid]) -> Recording:
    ordered = sorted(oids)
    return Recording(
        Path("gen.snmprec"),
        oids=ordered,
        tags=[Tag.INTEGER] * len(ordered),
        values=list(range(len(ordered))),
    )


async def test_winxp_software_table_in_fewer_requests() -> None:
    rec = load_snmprec(ROOT / "recordings" / "winxp-full-walk.snmprec")
    table = parse_oid("1.3.6.1.2.1.25.6.3.1")  # hrSWInstalledTable: 160 rows, 5 columns
    columns = [(*table, c) for c in range(1, 6)]
    alone = RecordedTransport(rec)
    expected = {c: await walk(alone, c) for c in columns}
    together = RecordedTransport(rec)
    assert await walk_columns(together, columns) == expected
    assert sum(len(v) for v in expected.values()) == 800
    # 64 varbinds a request: 12 rows of 5 columns; 160 rows -> 14 requests (the last sees
    # the end), against 7 per column walked alone
    assert together.stats.getbulk == 14
    assert alone.stats.getbulk == 35
    v1 = RecordedTransport(rec, version="1")
    assert await walk_columns(v1, columns) == expected
    assert v1.stats.getnext == 161  # one row a request, not one varbind


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sets(st.integers(1, 30), max_size=25),  # rows present in each column: sparse
        min_size=1,
        max_size=6,
    ),
    st.integers(1, 9),
    st.integers(1, 40),
    st.booleans(),
)
async def test_sparse_columns_match_per_column_walks(
    rows: list[set[int]], max_rep: int, max_varbinds: int, v1: bool
) -> None:
    oids = [(*BASE, col, row) for col, present in enumerate(rows, 1) for row in present]
    oids.append((1, 3, 6, 1, 4, 1, 99999, 2, 0))  # something after the table
    rec = recording(oids)
    columns = [(*BASE, col) for col in range(1, len(rows) + 1)]
    version = "1" if v1 else "2c"
    expected = {c: await walk(RecordedTransport(rec, version=version), c) for c in columns}
    got = await walk_columns(
        RecordedTransport(rec, version=version), columns, max_rep, max_varbinds
    )
    assert got == expected


class _Scripted:
    """A transport answering GETBULKs from a script, to play agents that misbehave."""

    supports_bulk = True

    def __init__(self, answers: list[list[VarBind]]) -> None:
        self.answers = answers
        self.stats = RequestStats()
        self.requests: list[list[Oid]] = []

    async def get(self, oids: Sequence[Oid]) -> list[VarBind]:
        raise AssertionError("not used")

    async def get_next(self, oids: Sequence[Oid]) -> list[VarBind]:
        raise AssertionError("not used")

    async def get_bulk(
        self, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        self.requests.append(list(oids))
        self.stats.getbulk += 1
        return self.answers.pop(0) if self.answers else []

    async def close(self) -> None:
        return None


def vb(*oid: int) -> VarBind:
    return VarBind(oid, Tag.INTEGER, 1)


async def test_a_column_that_goes_backwards_ends_alone() -> None:
    a, b = (*BASE, 1), (*BASE, 2)
    agent = _Scripted(
        [
            [vb(*a, 1), vb(*b, 1), vb(*a, 2), vb(*b, 1)],  # b repeats itself
            [vb(*a, 3), vb(1, 3, 6, 1, 9)],
        ]
    )
    got = await walk_columns(agent, [a, b])
    assert [v.oid[-1] for v in got[a]] == [1, 2, 3]
    assert [v.oid[-1] for v in got[b]] == [1]
    assert agent.stats.walk_anomalies == {"non_increasing": 1}
    assert agent.requests[1] == [(*a, 2)]  # only the column still running


async def test_short_answers_keep_the_unanswered_columns_going() -> None:
    a, b = (*BASE, 1), (*BASE, 2)
    agent = _Scripted([[vb(*a, 1)], [vb(*a, 1)], [vb(*b, 5), vb(1, 3, 6, 1, 9)]])
    got = await walk_columns(agent, [a, b])
    assert [v.oid for v in got[a]] == [(*a, 1)]
    assert [v.oid for v in got[b]] == [(*b, 5)]
    # 1st answer: half a row; 2nd: a repeats (ended); 3rd: b alone, with its end
    assert agent.requests == [[a, b], [(*a, 1), b], [b]]
    assert agent.stats.walk_anomalies == {"non_increasing": 1}


async def test_empty_answer_is_an_anomaly() -> None:
    agent = _Scripted([])
    assert await walk_columns(agent, [BASE]) == {BASE: []}
    assert agent.stats.walk_anomalies == {"empty_response": 1}


async def test_end_of_mib_before_a_later_column_ends_is_a_truncated_walk() -> None:
    a, b = (*BASE, 1), (*BASE, 2)
    end = VarBind((*a, 2), Tag.END_OF_MIB_VIEW, None)
    agent = _Scripted([[vb(*a, 1), vb(*b, 1), end, vb(*b, 2)], [vb(1, 3, 6, 1, 9)]])
    got = await walk_columns(agent, [a, b])
    assert [v.oid for v in got[a]] == [(*a, 1)]  # what was read is kept
    assert [v.oid for v in got[b]] == [(*b, 1), (*b, 2)]
    assert agent.stats.walk_anomalies == {"truncated": 1}


async def test_end_of_mib_after_the_last_column_is_normal() -> None:
    a, b = (*BASE, 1), (*BASE, 2)
    end = VarBind((*b, 9), Tag.END_OF_MIB_VIEW, None)
    agent = _Scripted([[vb(*a, 1), vb(*b, 1), vb(*b, 1), end]])
    got = await walk_columns(agent, [a, b])
    assert len(got[a]) == 1 and len(got[b]) == 1
    assert agent.stats.walk_anomalies == {}


async def test_a_poll_budget_cuts_walks_at_the_varbind_cap_and_keeps_what_was_read() -> None:
    from sobriety.snmp.transport import PollBudget

    rec = load_snmprec(ROOT / "recordings" / "winxp-full-walk.snmprec")
    table = parse_oid("1.3.6.1.2.1.25.6.3.1")  # 160 rows, 5 columns
    columns = [(*table, c) for c in range(1, 6)]
    transport = RecordedTransport(rec)
    budget = PollBudget(lambda: 0.0, transport.stats, max_varbinds=100)
    sizes: dict[Oid, int] = {}
    got = await walk_columns(transport, columns, sizes=sizes, budget=budget)
    assert transport.stats.getbulk == 2  # 64 + 64 varbinds, then the cap
    assert [len(rows) for rows in got.values()] == [24] * 5  # the rows read are kept
    assert set(budget.cut) == {"varbind_cap"}
    assert budget.cut["varbind_cap"] == columns
    assert sizes == {}  # a column cut short says nothing about its length


async def test_a_poll_budget_stops_walks_at_the_deadline() -> None:
    from sobriety.snmp.transport import PollBudget

    rec = load_snmprec(ROOT / "recordings" / "winxp-full-walk.snmprec")
    now = [0.0]

    def slow(kind: str, oids: Sequence[Oid]) -> Exception | None:
        now[0] += 1.0  # each request takes a second
        return None

    transport = RecordedTransport(rec, fail=slow)
    budget = PollBudget(lambda: now[0], transport.stats, deadline=3.0)
    first, second = parse_oid("1.3.6.1.2.1.25.6.3.1.2"), parse_oid("1.3.6.1.2.1.25.2.3.1.3")
    got = await walk_columns(transport, [first], budget=budget)
    assert transport.stats.getbulk == 3 and len(got[first]) == 75
    assert await walk_columns(transport, [second], budget=budget) == {second: []}
    assert budget.cut == {"deadline": [first, second]}
