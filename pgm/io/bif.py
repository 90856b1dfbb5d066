"""The Bayesian Interchange Format (BIF), as used by the bnlearn repository.

A BIF file is a ``network`` block, ``variable`` blocks that declare each
variable's states, and ``probability`` blocks that give each variable's
conditional table::

    variable smoke { type discrete [ 2 ] { yes, no }; }
    probability ( lung | smoke ) {
      (yes) 0.1, 0.9;
      (no) 0.01, 0.99;
    }

Inside a probability block a row is introduced by the parent states in
parentheses, ``table`` lists every value (the child's state varying slowest,
then the parents in order, the last fastest -- the JavaBayes convention), and
``default`` fills the rows not listed.  Commas and ``|`` between tokens are
separators; ``//`` and ``/* */`` comments are skipped; names may be quoted and
may contain characters such as ``/ - . + < > =``.  Numbers follow BIF's
grammar (digits, an optional fraction and exponent, an optional sign), not
Python's: ``0.2_5``, ``inf`` and ``nan`` are errors.  Saying a thing twice --
a variable, a row, ``table`` or ``default``, a second ``network`` block -- is
an error, as is a block with both ``table`` and rows or ``default``.

The reader (no ``eval``) splits the text into tokens with one regular
expression, in C; a run of numbers that ends a row is a single token, so a
large table costs one match and one vectorised conversion rather than Python
work per number.  A recursive-descent parser walks the tokens.  Positions are
worked out only when there is an error to report: every error names the file,
line and column.  The writer uses the bnlearn layout and writes probabilities
with ``repr`` so that a written file reads back to exactly the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from pgm.errors import CPDError, CycleError, InferenceTooLarge, NodeError, ParseError

__all__ = ["read_bif", "parse_bif", "write_bif", "format_bif"]

_PUNCTUATION = frozenset("{}[]();,|")
_SEPARATORS = frozenset(",|")
_EOF = ""  # the last token; a quoted empty name is '""', never ""

_NUMBER_TEXT = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER = re.compile(_NUMBER_TEXT)

# Every position of the text is either skipped (whitespace, a complete
# comment) or starts a token, so findall never silently steps over text.  The
# alternatives, in order: a run of numbers ending at ';' (a whole row's
# values), a quoted name, punctuation, a bare word (which stops before a
# comment), an unterminated quote or comment (errors), and the end of the text.
_TOKEN = re.compile(
    r"(?:\s+|//[^\n]*|/\*.*?\*/)*"
    r"("
    rf"{_NUMBER_TEXT}(?:[\s,]+{_NUMBER_TEXT})*(?=\s*;)"
    r'|"[^"\n]*"'
    r"|[{}\[\]();,|]"
    r'|(?:[^\s{}\[\]();,|"/]|/(?![/*]))+'
    r'|"|/\*'
    r"|\Z"
    r")",
    re.DOTALL,
)
_HAS_SPACE_OR_COMMA = re.compile(r"[\s,]")


def tokenize(text: str) -> list[str]:
    """The tokens of BIF text, ending with ``""`` (end of file); quoted names keep their quotes."""
    tokens = _TOKEN.findall(text)
    if len(tokens) > 1 and tokens[-2] == _EOF:  # skipped text at the end, then the empty match at the end
        tokens.pop()
    return tokens


def _shown(text: str, limit: int = 60) -> str:
    """``repr(text)``, cut short: an error message stays one short line whatever the file holds."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


@dataclass
class _Variable:
    name: str
    states: list[str]
    token: int  # index of the name token, for error messages


@dataclass
class _Probability:
    child: str
    parents: list[str]
    token: int  # index of the '(' after 'probability'
    rows: list = field(default_factory=list)  # (parent states, (start, count), token index)
    table: tuple | None = None  # ((start, count), token index)
    default: tuple | None = None
    values: list = field(default_factory=list)  # the numbers' text, in the order of the file


class _Parser:
    def __init__(self, text: str, source: str | None):
        self.text = text
        self.source = source
        self.tokens = tokenize(text)
        self.i = 0
        self.last = len(self.tokens) - 1
        self._check_unterminated()

    # -- positions, computed only for errors
    def location(self, index: int, inner: str | None = None) -> tuple[int, int]:
        """Line and column of token ``index`` (of ``inner`` inside it, when given)."""
        for k, match in enumerate(_TOKEN.finditer(self.text)):
            if k == index:
                offset = match.start(1)
                if inner:  # the first occurrence from this token on (the token may be the block's keyword)
                    found = self.text.find(inner, offset)
                    offset = found if found >= 0 else offset
                break
        else:  # pragma: no cover - every token index comes from the same expression
            offset = len(self.text)
        line_start = self.text.rfind("\n", 0, offset) + 1
        return self.text.count("\n", 0, offset) + 1, offset - line_start + 1

    def error(self, message: str, index: int | None = None, *, inner: str | None = None) -> ParseError:
        line, column = self.location(self.i if index is None else index, inner)
        return ParseError(message, line, column, self.source)

    def describe(self, index: int) -> str:
        token = self.tokens[index]
        if token == _EOF:
            return "end of file"
        if token[0] == '"':
            return _shown(token[1:-1])
        return _shown(_HAS_SPACE_OR_COMMA.split(token, 1)[0])  # a run of numbers: its first

    def _check_unterminated(self) -> None:
        tokens = self.tokens
        for marker, message in (('"', "unterminated quoted name"), ("/*", "unterminated /* comment")):
            try:
                index = tokens.index(marker)
            except ValueError:
                continue
            raise self.error(message, index)

    # -- token helpers
    def peek(self) -> str:
        return self.tokens[self.i]

    def next(self) -> str:
        token = self.tokens[self.i]
        if self.i < self.last:
            self.i += 1
        return token

    def at_end(self) -> bool:
        return self.i == self.last

    def expect(self, char: str, context: str) -> int:
        index = self.i
        if self.next() != char:
            raise self.error(f"expected '{char}' {context}, found {self.describe(index)}", index)
        return index

    def skip_separators(self) -> None:
        tokens = self.tokens
        while tokens[self.i] in _SEPARATORS:
            self.i += 1

    def name(self, what: str) -> tuple[str, int]:
        """The next name (quotes removed) and its token index."""
        self.skip_separators()
        index = self.i
        token = self.next()
        if token[:1] == '"':
            if len(token) == 2:
                raise self.error(f"expected {what}, found an empty quoted name", index)
            return token[1:-1], index
        if token == _EOF or token in _PUNCTUATION or _HAS_SPACE_OR_COMMA.search(token):
            raise self.error(f"expected {what}, found {self.describe(index)}", index)
        return token, index

    def numbers(self, context: str, into: list) -> tuple[int, int]:
        """Append the text of the numbers up to ';' to ``into``; return where they start and how many."""
        tokens, count, start = self.tokens, 0, len(into)
        while True:
            token = tokens[self.i]
            if token == ";":
                self.i += 1
                break
            if token in _SEPARATORS:
                self.i += 1
                continue
            if token == _EOF or token in _PUNCTUATION or token[0] == '"':
                raise self.error(f"expected a probability or ';' {context}, found {self.describe(self.i)}")
            if _HAS_SPACE_OR_COMMA.search(token):  # a run of numbers, already checked by the tokenizer
                parts = token.replace(",", " ").split()
            else:
                if not _NUMBER.fullmatch(token):
                    raise self.error(f"{_shown(token)} is not a number {context}")
                parts = [token]
            into.extend(parts)
            count += len(parts)
            self.i += 1
        if not count:
            raise self.error(f"no probabilities {context}", self.i - 1)
        return start, count

    def skip_property(self) -> None:
        # property <anything> ;  -- free text that pgm does not interpret
        while True:
            index = self.i
            token = self.next()
            if token == ";":
                return
            if token == _EOF:
                raise self.error("unterminated property (missing ';')", index)

    # -- grammar
    def parse(self):
        name, variables, probabilities = None, {}, []
        while not self.at_end():
            index = self.i
            keyword = self.next()
            if keyword == "network":
                if name is not None:
                    raise self.error("a second 'network' block; a file holds one network", index)
                name = self.network_block()
            elif keyword == "variable":
                variable = self.variable_block()
                if variable.name in variables:
                    raise self.error(f"variable {variable.name!r} is declared twice", variable.token)
                variables[variable.name] = variable
            elif keyword == "probability":
                probabilities.append(self.probability_block())
            else:
                raise self.error(
                    f"expected 'network', 'variable' or 'probability', found {self.describe(index)}", index
                )
        if not variables:
            raise self.error("the file declares no variables (is it a BIF file?)", self.last)
        return name, variables, probabilities

    def network_block(self) -> str:
        name, _ = self.name("a network name")
        self.expect("{", "after the network name")
        self.skip_block_body("network")
        return name

    def skip_block_body(self, what: str) -> None:
        while True:
            index = self.i
            token = self.next()
            if token == "}":
                return
            if token == "property":
                self.skip_property()
            elif token == _EOF:
                raise self.error(f"the {what} block is not closed with '}}'", index)
            else:
                raise self.error(f"unexpected {self.describe(index)} in the {what} block", index)

    def variable_block(self) -> _Variable:
        name, name_index = self.name("a variable name")
        self.expect("{", f"after variable {name!r}")
        states = None
        while True:
            index = self.i
            token = self.next()
            if token == "}":
                break
            if token == "property":
                self.skip_property()
            elif token == "type":
                if states is not None:
                    raise self.error(f"variable {name!r} has a second 'type' declaration", index)
                states = self.type_declaration(name)
            else:
                raise self.error(
                    f"expected 'type', 'property' or '}}' in variable {name!r}, found {self.describe(index)}", index
                )
        if states is None:
            raise self.error(f"variable {name!r} has no 'type discrete' declaration", name_index)
        return _Variable(name, states, name_index)

    def type_declaration(self, variable: str) -> list[str]:
        index = self.i
        if self.next() != "discrete":
            raise self.error(f"only discrete variables are supported, found type {self.describe(index)}", index)
        self.expect("[", "after 'discrete'")
        count_index = self.i
        count = self.next()
        if not re.fullmatch(r"[0-9]{1,9}", count) or int(count) == 0:  # 9 digits: int() of any length is slow
            raise self.error(f"expected a positive number of states, found {self.describe(count_index)}", count_index)
        self.expect("]", "after the number of states")
        self.expect("{", "before the list of states")
        states = []
        while True:
            self.skip_separators()
            if self.peek() == "}":
                self.next()
                break
            states.append(self.name(f"a state of {variable!r}")[0])
        self.expect(";", "after the list of states")
        if len(states) != int(count):
            raise self.error(f"variable {variable!r} declares {int(count)} states but lists {len(states)}", count_index)
        if len(set(states)) != len(states):
            dup = next(s for s in states if states.count(s) > 1)
            raise self.error(f"variable {variable!r} lists state {dup!r} twice", count_index)
        return states

    def probability_block(self) -> _Probability:
        start = self.expect("(", "after 'probability'")
        names = []
        while True:
            self.skip_separators()
            if self.peek() == ")":
                self.next()
                break
            names.append(self.name("a variable name")[0])
        if not names:
            raise self.error("a probability block must name its variable", start)
        self.expect("{", "to open the probability block")
        block = _Probability(names[0], names[1:], start)
        child = repr(block.child)
        tokens = self.tokens
        while True:
            index = self.i
            token = tokens[index]
            if token == "}":
                self.i += 1
                return block
            if token == _EOF:
                raise self.error(f"the probability block of {child} is not closed with '}}'", index)
            self.i += 1
            if token == "(":
                states = []
                while True:
                    self.skip_separators()
                    if tokens[self.i] == ")":
                        self.i += 1
                        break
                    states.append(self.name("a parent state")[0])
                if block.table is not None:
                    raise self.error(f"the probability block of {child} has a row after 'table', "
                                     "which already gives every value", index)
                span = self.numbers(f"in the row {tuple(states)} of {child}", block.values)
                block.rows.append((states, span, index))
            elif token == "table" or token == "default":
                if getattr(block, token) is not None:
                    raise self.error(f"the probability block of {child} gives '{token}' twice", index)
                if block.table is not None or (token == "table" and (block.rows or block.default is not None)):
                    raise self.error(
                        f"the probability block of {child} has both 'table' and rows or 'default'; "
                        "'table' gives every value, so nothing else may be given", index)
                what = "the table" if token == "table" else "the default row"
                setattr(block, token, (self.numbers(f"in {what} of {child}", block.values), index))
            elif token == "property":
                self.skip_property()
            else:
                raise self.error(
                    f"expected '(', 'table', 'default' or '}}' in the probability block of {child}, "
                    f"found {self.describe(index)}", index)


def _numbers(block: _Probability, parser: _Parser) -> np.ndarray:
    values = np.array(block.values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        position = int(np.argmax(bad))
        spans = [(span, index) for _, span, index in block.rows]
        spans += [spec for spec in (block.table, block.default) if spec is not None]
        at = next(index for (start, count), index in spans if start <= position < start + count)
        raise parser.error(f"{block.values[position]!r} is not a finite number in the probability block of "
                           f"{block.child!r}", at, inner=block.values[position])
    return values


def _check_size(block: _Probability, cards: list[int], k: int, parser: _Parser) -> None:
    from pgm._memory import physical_memory

    entries = k
    for c in cards:
        entries *= c
    if entries * 8 * 4 > physical_memory():  # the table is built, checked and copied into its CPD
        from pgm.inference.junction_tree import format_bytes

        line, column = parser.location(block.token)
        where = f"{parser.source}:" if parser.source else "line "
        raise InferenceTooLarge(
            f"{where}{line}:{column}: the table of {block.child!r} would have {entries:,} entries "
            f"({format_bytes(entries * 8)}), more than this machine's memory can build; a node with "
            f"{len(cards)} parent(s) of {', '.join(map(str, cards))} states cannot be held as one table"
        )


def _table(block: _Probability, variables: dict, parser: _Parser) -> np.ndarray:
    child = variables[block.child]
    parents = [variables[p] for p in block.parents]
    k = len(child.states)
    cards = [len(p.states) for p in parents]
    _check_size(block, cards, k, parser)
    values = _numbers(block, parser)
    table = np.empty(tuple(cards) + (k,))

    def check_length(count, token, what, expected):
        if count != expected:
            raise parser.error(f"{what} of {block.child!r} has {count} values, expected {expected}", token)

    if block.table is not None:
        (start, count), token = block.table
        check_length(count, token, "the table", table.size)
        # child axis first, parents after: move the child axis to the end
        table[...] = np.moveaxis(values[start:start + count].reshape((k,) + tuple(cards)), 0, -1)
        return table
    assigned = np.zeros(tuple(cards), dtype=bool)
    lookups = [{state: i for i, state in enumerate(p.states)} for p in parents]
    for states, (start, count), token in block.rows:
        if len(states) != len(parents):
            raise parser.error(
                f"row {tuple(states)} of {block.child!r} gives {len(states)} parent states, expected {len(parents)}",
                token,
            )
        position = []
        for parent, lookup, state in zip(parents, lookups, states):
            code = lookup.get(state)
            if code is None:
                raise parser.error(f"{state!r} is not a state of {parent.name!r} (states {parent.states})", token)
            position.append(code)
        position = tuple(position)
        check_length(count, token, f"row {tuple(states)}", k)
        if assigned[position]:
            raise parser.error(f"the probability block of {block.child!r} gives the row {tuple(states)} twice", token)
        table[position] = values[start:start + k]
        assigned[position] = True
    if block.default is not None:
        (start, count), token = block.default
        check_length(count, token, "the default row", k)
        table[~assigned] = values[start:start + k]  # default fills only the rows not given
        assigned[...] = True
    missing = ~assigned
    if missing.any():
        config = np.unravel_index(int(np.flatnonzero(missing.ravel())[0]), missing.shape)
        label = ", ".join(f"{p.name}={p.states[c]}" for p, c in zip(parents, config))
        raise parser.error(f"the probability block of {block.child!r} has no row for {label}", block.token)
    return table


def _located(error: Exception, parser: _Parser, token: int) -> Exception:
    """``error`` (same class) with the file, line and column in front of its message."""
    line, column = parser.location(token)
    where = f"{parser.source}:" if parser.source else "line "
    error.args = (f"{where}{line}:{column}: {error}",)
    return error


def parse_bif(text: str, *, source: str | None = None):
    """Parse BIF text into a :class:`~pgm.network.BayesianNetwork`.

    Raises
    ------
    ParseError
        A syntax error or an inconsistent block; the message gives line and column.
    CycleError, NodeError
        A cyclic graph or an invalid name; the message starts with the location.
    InferenceTooLarge
        A table too large to hold in memory (e.g. many parents with many states).
    """
    from pgm.cpds import Categorical
    from pgm.network import BayesianNetwork

    parser = _Parser(text, source)
    name, variables, blocks = parser.parse()
    by_child = {}
    for block in blocks:
        for node in [block.child] + block.parents:
            if node not in variables:
                raise parser.error(f"probability block refers to undeclared variable {node!r}", block.token)
        if block.child in block.parents:
            raise parser.error(f"variable {block.child!r} is listed as its own parent", block.token)
        if len(set(block.parents)) != len(block.parents):
            dup = next(p for p in block.parents if block.parents.count(p) > 1)
            raise parser.error(f"the probability block of {block.child!r} lists parent {dup!r} twice", block.token)
        if block.child in by_child:
            raise parser.error(f"variable {block.child!r} has two probability blocks", block.token)
        by_child[block.child] = block
    for variable in variables.values():
        if variable.name not in by_child:
            raise parser.error(f"variable {variable.name!r} has no probability block", variable.token)
    cpds = {}
    for variable in variables.values():
        block = by_child[variable.name]
        table = _table(block, variables, parser)
        parent_domains = {p: tuple(variables[p].states) for p in block.parents}
        try:
            cpd = Categorical(variable.states, parents=block.parents, table=table)
            cpds[variable.name] = cpd.bind(variable.name, parent_domains)  # validate here, to locate errors
        except (CPDError, NodeError) as exc:
            line, column = parser.location(block.token)
            raise ParseError(str(exc), line, column, source) from None
    try:
        return BayesianNetwork._from_bound(cpds, name=name or "network")
    except CycleError as exc:
        raise _located(exc, parser, by_child[exc.cycle[0]].token) from None
    except NodeError as exc:  # pragma: no cover - names and parents were checked above
        raise _located(exc, parser, 0) from None


def read_bif(path) -> "BayesianNetwork":  # noqa: F821
    """Read a BIF file (UTF-8, with or without a byte-order mark).

    Examples
    --------
    >>> import pgm
    >>> from pgm.io import read_bif
    >>> net = read_bif(pgm.datasets.path("child"))
    >>> net.states("ChestXray")[-1]
    'Asy/Patch'
    """
    from pgm.io._files import read_text

    return parse_bif(read_text(path), source=str(path))


_PLAIN_NAME = re.compile(r"[^\s{}\[\]();,|\"]+")
# A quote, characters that end a line for some reader (str.splitlines), control
# characters no editor shows, and lone surrogates (not encodable as UTF-8): a
# name holding one cannot be written so that it reads back.
_UNWRITABLE = re.compile('["\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]')


#: BIF's keywords.  A name spelled like one is written quoted: other readers (pyAgrum) refuse
#: ``network network {``, the default name's line, while every reader takes ``network "network" {``.
_KEYWORDS = {"network", "variable", "probability", "property", "type", "discrete", "default", "table"}


def _quote(name) -> str:
    if not isinstance(name, str):
        raise CPDError(f"the name {name!r} cannot be written to BIF: names must be strings")
    match = _UNWRITABLE.search(name)
    if match:
        raise CPDError(
            f"the name {name!r} cannot be written to BIF: it contains {match.group()!r} "
            "(a quote, a line break, a control character or a lone surrogate)"
        )
    if name and _PLAIN_NAME.fullmatch(name) and "//" not in name and "/*" not in name \
            and name.lower() not in _KEYWORDS:
        return name
    return f'"{name}"'


def _number_text(values) -> str:
    return ", ".join(repr(float(v)) for v in values)


def format_bif(network) -> str:
    """The network as BIF text (discrete networks only)."""
    if not len(network):
        raise CPDError("the network has no nodes; a BIF file must declare at least one variable")
    for node in network.nodes:
        if not network[node].is_discrete:
            raise CPDError(
                f"node {node!r} is continuous; BIF holds discrete networks only -- write JSON instead"
            )
        if not getattr(network[node], "is_fitted", True):
            raise CPDError(f"node {node!r} has no table yet (it was never fitted), and BIF cannot hold a node "
                           "without one; fit the network first, or write JSON")
    lines = [f"network {_quote(network.name)} {{", "}"]
    for node in network.nodes:
        states = ", ".join(_quote(str(s)) for s in network[node].states)  # BIF states are text; 1 and True too
        lines += [f"variable {_quote(node)} {{", f"  type discrete [ {len(network[node].states)} ] {{ {states} }};", "}"]
    for node in network.nodes:
        cpd = network[node]
        if not cpd.parents:
            lines += [f"probability ( {_quote(node)} ) {{", f"  table {_number_text(cpd.table)};", "}"]
            continue
        parents = ", ".join(_quote(p) for p in cpd.parents)
        lines.append(f"probability ( {_quote(node)} | {parents} ) {{")
        flat = cpd.table.reshape(-1, len(cpd.states))
        quoted = [[_quote(str(s)) for s in domain] for domain in cpd.parent_states]
        for config, row in enumerate(flat):
            codes = np.unravel_index(config, cpd.table.shape[:-1])
            states = ", ".join(domain[c] for domain, c in zip(quoted, codes))
            lines.append(f"  ({states}) {_number_text(row)};")
        lines.append("}")
    return "\n".join(lines) + "\n"


def write_bif(network, path) -> None:
    """Write a discrete network to ``path`` as BIF, atomically.

    BIF has no way to say that nodes share a CPD: tied nodes are written as
    separate (equal) tables, with a warning, and read back untied.  JSON
    keeps the ties.
    """
    import warnings

    from pgm.io._files import write_text_atomically

    if network.tied_groups:
        listed = "; ".join(", ".join(group) for group in network.tied_groups)
        warnings.warn(
            f"BIF cannot express tied CPDs, so the tables of the tied nodes ({listed}) are written separately "
            "and will read back untied; write JSON to keep the ties",
            UserWarning, stacklevel=2,
        )
    write_text_atomically(path, format_bif(network))
