from __future__ import annotations

import numpy as np
import pytest

from polymodal.errors import PlanError
from polymodal.planning.automaton import AutomatonBuilder, Columns, RowTokens, Trie
from polymodal.planning.planner import compile_instruction
from polymodal.vocab import EOS, PAD, VocabLayout

LAYOUT = VocabLayout.build({"text": 50, "span": 10})
TEXT = LAYOUT.space("text")
SPAN = LAYOUT.space("span")


def builder(plan, spaces=("text",)):
    ranges = [(0, 5)] + [(LAYOUT.space(s).offset, LAYOUT.space(s).end) for s in spaces]
    cols = Columns(ranges, EOS, PAD)
    return AutomatonBuilder(plan.program, cols, {s.name: (s.offset, s.end) for s in LAYOUT.spaces()}), cols


def t(*local):
    return [TEXT.offset + i for i in local]


def test_forced_prefix_then_closed_set(registry):
    plan = compile_instruction("[TEXT:s] -> yes [TEXT:s,no_loss] [TEXT:label,closed_set]", registry)
    b, cols = builder(plan)
    trie = Trie({"positive": tuple(t(1, 2)), "negative": tuple(t(1, 3)), "neutral": tuple(t(4,))})
    row = RowTokens(forced={0 + 1: t(9), 2: t(7, 8)}, targets={3: [t(1, 3)]}, tries={3: trie})
    machine = b.build(row)
    target = b.target(row, EOS)
    assert target == t(9, 7, 8, 1, 3) + [EOS]
    columns = [cols.column(x) for x in target]
    states = machine.trace(columns)
    assert [bool(machine.no_loss[s]) for s in states] == [True, True, True, False, False, False]
    # after the shared first label token only the two continuations are allowed
    allowed = np.flatnonzero(machine.allowed(states[4]))
    assert sorted(allowed) == sorted([cols.column(x) for x in t(2, 3)])
    # a label outside the set is rejected
    with pytest.raises(ValueError):
        machine.trace([cols.column(x) for x in t(9, 7, 8, 4, 2)])


def test_free_text_capped_by_max_length(registry):
    plan = compile_instruction("[TEXT:s] -> [TEXT:out,max_length=3]", registry)
    b, cols = builder(plan)
    machine = b.build(RowTokens())
    s = machine.start
    assert not machine.allowed(s)[cols.eos]  # at least one token
    for _ in range(3):
        s = machine.advance(s, cols.column(TEXT.offset + 1))
    assert np.flatnonzero(machine.allowed(s)).tolist() == [cols.eos]


def test_loop_of_spans_and_labels(registry):
    plan = compile_instruction("[TEXT:doc] -> ( [SPAN:box] [TEXT:label] )*", registry)
    b, cols = builder(plan, ("text", "span"))
    span = lambda *v: [SPAN.offset + x for x in v]  # noqa: E731
    row = RowTokens(targets={1: [span(1, 2, 3, 4), span(5, 6, 7, 8)], 2: [t(3), t(4, 5)]}, loop_counts={0: 2})
    machine = b.build(row)
    target = b.target(row, EOS)
    states = machine.trace([cols.column(x) for x in target])
    assert len(states) == len(target)
    # the empty repetition is allowed: EOS right away
    assert machine.allowed(machine.start)[cols.eos]
    # the label cannot start where a box coordinate is expected
    after_first_coord = machine.advance(machine.start, cols.column(SPAN.offset + 1))
    assert not machine.allowed(after_first_coord)[cols.column(TEXT.offset + 3)]


def test_identical_labels_are_refused():
    with pytest.raises(PlanError, match="tokenise identically"):
        Trie({"a": (5,), "b": (5,)})


def test_rows_share_a_machine_unless_their_forced_tokens_or_loop_counts_differ(registry):
    plan = compile_instruction("[TEXT:s] -> yes [TEXT:s,no_loss] [TEXT:label,closed_set]", registry)
    b, cols = builder(plan)
    trie = Trie({"positive": tuple(t(1, 2)), "negative": tuple(t(1, 3))})
    first = b.build(RowTokens(forced={1: t(9), 2: t(7)}, targets={3: [t(1, 2)]}, tries={3: trie}))
    same = b.build(RowTokens(forced={1: t(9), 2: t(7)}, targets={3: [t(1, 3)]}, tries={3: trie}))
    other = b.build(RowTokens(forced={1: t(9), 2: t(8)}, targets={3: [t(1, 3)]}, tries={3: trie}))
    assert same is first  # targets do not shape the machine
    assert other is not first
    row = RowTokens(forced={1: t(9), 2: t(8)}, targets={3: [t(1, 3)]}, tries={3: trie})
    assert other.trace([cols.column(x) for x in b.target(row, EOS)])  # a cached machine still fits its row
    with pytest.raises(ValueError):
        first.trace([cols.column(x) for x in b.target(row, EOS)])  # the forced token differs

    loop = compile_instruction("[TEXT:doc] -> ( [SPAN:box] [TEXT:label] )*", registry)
    b2, _ = builder(loop, ("text", "span"))
    one = b2.build(RowTokens(targets={1: [[SPAN.offset] * 4], 2: [t(3)]}, loop_counts={0: 1}))
    two = b2.build(RowTokens(targets={1: [[SPAN.offset] * 4] * 2, 2: [t(3), t(4)]}, loop_counts={0: 2}))
    assert one is not two


def test_template_forces_and_keeps_the_given_tokens_and_predicts_only_the_blanks():
    from polymodal.planning.program import Program, Segment

    program = Program((Segment("template", slot=1, space="text"),), eos=True)
    cols = Columns([(0, 5), (TEXT.offset, TEXT.end)], EOS, PAD)
    b = AutomatonBuilder(program, cols, {s.name: (s.offset, s.end) for s in LAYOUT.spaces()})
    template = [t(7)[0], tuple(t(1, 2, 3)), t(8)[0], tuple(t(1, 2, 3))]
    row = RowTokens(targets={1: [t(7, 2, 8, 3)]}, templates={1: template})
    machine = b.build(row)
    target = b.target(row, EOS)
    assert target == t(7, 2, 8, 3) + [EOS]
    states = machine.trace([cols.column(x) for x in target])
    assert [bool(machine.no_loss[s]) for s in states] == [True, False, True, False, False]
    assert [bool(machine.kept[s]) for s in states] == [True, False, True, False, False]
    assert machine.forced[states[0]] == cols.column(t(7)[0])
    assert sorted(np.flatnonzero(machine.allowed(states[1]))) == [cols.column(x) for x in t(1, 2, 3)]
    with pytest.raises(ValueError):  # a given token changed
        machine.trace([cols.column(x) for x in t(9, 2, 8, 3)])
    with pytest.raises(ValueError):  # a blank filled with a token it does not allow
        machine.trace([cols.column(x) for x in t(7, 4, 8, 3)])
    # rows with other given tokens get machines of their own (machines are cached per row content)
    other = b.build(RowTokens(templates={1: [t(9)[0]] + template[1:]}))
    assert other is not machine and other.forced[other.start] == cols.column(t(9)[0])
    assert b.build(RowTokens(templates={1: list(template)})) is machine


def test_template_states_carry_the_cells_of_their_tokens():
    from polymodal.planning.program import Program, Segment

    program = Program((Segment("template", slot=1, space="text"),), eos=True)
    cols = Columns([(0, 5), (TEXT.offset, TEXT.end)], EOS, PAD)
    b = AutomatonBuilder(program, cols, {s.name: (s.offset, s.end) for s in LAYOUT.spaces()})
    template = [t(7)[0], tuple(t(1, 2, 3)), t(8)[0]]
    cells = [(1, 1, 1), (1, 2, 1), (0, 0, 0)]
    row = RowTokens(targets={1: [t(7, 2, 8)]}, templates={1: template}, cells={1: cells})
    machine = b.build(row)
    states = machine.trace([cols.column(x) for x in b.target(row, EOS)])
    assert [tuple(machine.cells[s]) for s in states] == cells + [(0, 0, 0)]
    # the same template without coordinates is another machine, with none
    plain = b.build(RowTokens(templates={1: template}))
    assert plain is not machine and plain.cells is None
