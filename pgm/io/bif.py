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
may contain characters such as ``/ - . + < > =``.

The reader is a small hand-written tokenizer and recursive-descent parser
(no ``eval``); a syntax error names the line and column.  The writer uses the
bnlearn layout and writes probabilities with ``repr`` so that a written file
reads back to exactly the same numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pgm.errors import CPDError, NodeError, ParseError

__all__ = ["read_bif", "parse_bif", "write_bif", "format_bif"]

_PUNCTUATION = set("{}[]();,|")
_SEPARATORS = {",", "|"}


@dataclass(frozen=True)
class Token:
    text: str
    line: int
    column: int
    quoted: bool = False

    def describe(self) -> str:
        return "end of file" if self.text == "" and not self.quoted else repr(self.text)


def tokenize(text: str, source: str | None = None) -> list[Token]:
    """Split BIF text into tokens with 1-based line and column numbers."""
    tokens: list[Token] = []
    i, line, line_start, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line, line_start = line + 1, i + 1
            i += 1
        elif ch.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ParseError("unterminated /* comment", line, i - line_start + 1, source)
            line += text.count("\n", i, end)
            newline = text.rfind("\n", i, end)
            if newline >= 0:
                line_start = newline + 1
            i = end + 2
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0 or "\n" in text[i:end]:
                raise ParseError("unterminated quoted name", line, i - line_start + 1, source)
            tokens.append(Token(text[i + 1:end], line, i - line_start + 1, quoted=True))
            i = end + 1
        elif ch in _PUNCTUATION:
            tokens.append(Token(ch, line, i - line_start + 1))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _PUNCTUATION and text[i] != '"' \
                    and not text.startswith("//", i) and not text.startswith("/*", i):
                i += 1
            tokens.append(Token(text[start:i], line, start - line_start + 1))
    tokens.append(Token("", line, n - line_start + 1))  # end of file
    return tokens


@dataclass
class _Variable:
    name: str
    states: list[str]
    token: Token


@dataclass
class _Probability:
    child: str
    parents: list[str]
    rows: list[tuple[list[str], list[float], Token]]
    table: tuple[list[float], Token] | None
    default: tuple[list[float], Token] | None
    token: Token


class _Parser:
    def __init__(self, text: str, source: str | None):
        self.tokens = tokenize(text, source)
        self.position = 0
        self.source = source

    # -- token helpers
    def peek(self) -> Token:
        return self.tokens[self.position]

    def next(self) -> Token:
        token = self.tokens[self.position]
        if self.position < len(self.tokens) - 1:
            self.position += 1
        return token

    def error(self, message: str, token: Token | None = None) -> ParseError:
        token = token or self.peek()
        return ParseError(message, token.line, token.column, self.source)

    def at_end(self) -> bool:
        return self.position == len(self.tokens) - 1

    def is_punct(self, token: Token, char: str) -> bool:
        return token.text == char and not token.quoted

    def expect(self, char: str, context: str) -> Token:
        token = self.next()
        if not self.is_punct(token, char):
            raise self.error(f"expected '{char}' {context}, found {token.describe()}", token)
        return token

    def skip_separators(self) -> None:
        while not self.at_end() and self.peek().text in _SEPARATORS and not self.peek().quoted:
            self.next()

    def name(self, what: str) -> Token:
        self.skip_separators()
        token = self.next()
        if (token.text in _PUNCTUATION and not token.quoted) or (token.text == "" and not token.quoted):
            raise self.error(f"expected {what}, found {token.describe()}", token)
        return token

    def numbers(self, context: str) -> list[float]:
        values = []
        while True:
            self.skip_separators()
            token = self.peek()
            if self.is_punct(token, ";"):
                self.next()
                break
            if token.text == "" or (token.text in _PUNCTUATION and not token.quoted):
                raise self.error(f"expected a probability or ';' {context}, found {token.describe()}", token)
            self.next()
            try:
                value = float(token.text)
            except ValueError:
                raise self.error(f"{token.text!r} is not a number {context}", token) from None
            if not np.isfinite(value):
                raise self.error(f"{token.text!r} is not a finite number {context}", token)
            values.append(value)
        if not values:
            raise self.error(f"no probabilities {context}")
        return values

    def skip_property(self) -> None:
        # property <anything> ;  -- free text that pgm does not interpret
        while True:
            token = self.next()
            if self.is_punct(token, ";"):
                return
            if token.text == "" and not token.quoted:
                raise self.error("unterminated property (missing ';')", token)

    # -- grammar
    def parse(self):
        name, variables, probabilities = None, {}, []
        while not self.at_end():
            token = self.next()
            keyword = token.text
            if keyword == "network" and not token.quoted:
                name = self.network_block()
            elif keyword == "variable" and not token.quoted:
                variable = self.variable_block()
                if variable.name in variables:
                    raise self.error(f"variable {variable.name!r} is declared twice", variable.token)
                variables[variable.name] = variable
            elif keyword == "probability" and not token.quoted:
                probabilities.append(self.probability_block())
            else:
                raise self.error(
                    f"expected 'network', 'variable' or 'probability', found {token.describe()}", token
                )
        return name, variables, probabilities

    def network_block(self) -> str:
        token = self.name("a network name")
        self.expect("{", "after the network name")
        self.skip_block_body("network")
        return token.text

    def skip_block_body(self, what: str) -> None:
        while True:
            token = self.peek()
            if self.is_punct(token, "}"):
                self.next()
                return
            if token.text == "property" and not token.quoted:
                self.next()
                self.skip_property()
            elif token.text == "" and not token.quoted:
                raise self.error(f"the {what} block is not closed with '}}'", token)
            else:
                raise self.error(f"unexpected {token.describe()} in the {what} block", token)

    def variable_block(self) -> _Variable:
        name_token = self.name("a variable name")
        self.expect("{", f"after variable {name_token.text!r}")
        states = None
        while True:
            token = self.next()
            if self.is_punct(token, "}"):
                break
            if token.text == "property" and not token.quoted:
                self.skip_property()
            elif token.text == "type" and not token.quoted:
                states = self.type_declaration(name_token)
            else:
                raise self.error(
                    f"expected 'type', 'property' or '}}' in variable {name_token.text!r}, found {token.describe()}",
                    token,
                )
        if states is None:
            raise self.error(f"variable {name_token.text!r} has no 'type discrete' declaration", name_token)
        return _Variable(name_token.text, states, name_token)

    def type_declaration(self, variable: Token) -> list[str]:
        kind = self.next()
        if kind.text != "discrete":
            raise self.error(f"only discrete variables are supported, found type {kind.describe()}", kind)
        self.expect("[", "after 'discrete'")
        count_token = self.next()
        if not re.fullmatch(r"\d+", count_token.text) or int(count_token.text) == 0:
            raise self.error(f"expected a positive number of states, found {count_token.describe()}", count_token)
        self.expect("]", "after the number of states")
        self.expect("{", "before the list of states")
        states = []
        while True:
            self.skip_separators()
            token = self.peek()
            if self.is_punct(token, "}"):
                self.next()
                break
            states.append(self.name(f"a state of {variable.text!r}").text)
        self.expect(";", "after the list of states")
        if len(states) != int(count_token.text):
            raise self.error(
                f"variable {variable.text!r} declares {count_token.text} states but lists {len(states)}", count_token
            )
        if len(set(states)) != len(states):
            dup = next(s for s in states if states.count(s) > 1)
            raise self.error(f"variable {variable.text!r} lists state {dup!r} twice", count_token)
        return states

    def probability_block(self) -> _Probability:
        start = self.expect("(", "after 'probability'")
        names = []
        while True:
            self.skip_separators()
            if self.is_punct(self.peek(), ")"):
                self.next()
                break
            names.append(self.name("a variable name").text)
        if not names:
            raise self.error("a probability block must name its variable", start)
        self.expect("{", "to open the probability block")
        block = _Probability(names[0], names[1:], [], None, None, start)
        while True:
            token = self.peek()
            if self.is_punct(token, "}"):
                self.next()
                return block
            if token.text == "" and not token.quoted:
                raise self.error(f"the probability block of {block.child!r} is not closed with '}}'", token)
            self.next()
            if self.is_punct(token, "("):
                states = []
                while True:
                    self.skip_separators()
                    if self.is_punct(self.peek(), ")"):
                        self.next()
                        break
                    states.append(self.name("a parent state").text)
                block.rows.append((states, self.numbers(f"in the row {tuple(states)} of {block.child!r}"), token))
            elif token.text == "table" and not token.quoted:
                block.table = (self.numbers(f"in the table of {block.child!r}"), token)
            elif token.text == "default" and not token.quoted:
                block.default = (self.numbers(f"in the default row of {block.child!r}"), token)
            elif token.text == "property" and not token.quoted:
                self.skip_property()
            else:
                raise self.error(
                    f"expected '(', 'table', 'default' or '}}' in the probability block of {block.child!r}, "
                    f"found {token.describe()}",
                    token,
                )


def _table(block: _Probability, variables: dict, parser: _Parser) -> np.ndarray:
    child = variables[block.child]
    parents = [variables[p] for p in block.parents]
    k = len(child.states)
    cards = [len(p.states) for p in parents]
    table = np.full(tuple(cards) + (k,), np.nan)

    def check_length(values, token, what):
        expected = k if what != "table" else table.size
        if len(values) != expected:
            raise parser.error(f"{what} of {block.child!r} has {len(values)} values, expected {expected}", token)

    assigned = np.zeros(tuple(cards), dtype=bool)
    if block.table is not None:
        values, token = block.table
        check_length(values, token, "table")
        # child axis first, parents after: move the child axis to the end
        table[...] = np.moveaxis(np.asarray(values).reshape((k,) + tuple(cards)), 0, -1)
        assigned[...] = True
    for states, values, token in block.rows:
        if len(states) != len(parents):
            raise parser.error(
                f"row {tuple(states)} of {block.child!r} gives {len(states)} parent states, expected {len(parents)}",
                token,
            )
        position = []
        for parent, state in zip(parents, states):
            if state not in parent.states:
                raise parser.error(f"{state!r} is not a state of {parent.name!r} (states {parent.states})", token)
            position.append(parent.states.index(state))
        check_length(values, token, f"row {tuple(states)}")
        if assigned[tuple(position)]:
            raise parser.error(f"the probability block of {block.child!r} gives the row {tuple(states)} twice", token)
        table[tuple(position)] = values
        assigned[tuple(position)] = True
    if block.default is not None:
        values, token = block.default
        check_length(values, token, "the default row")
        table[~assigned] = values  # default fills only the rows not given
        assigned[...] = True
    missing = ~assigned
    if missing.any():
        config = np.unravel_index(int(np.flatnonzero(missing.ravel())[0]), missing.shape)
        label = ", ".join(f"{p.name}={p.states[c]}" for p, c in zip(parents, config))
        raise parser.error(f"the probability block of {block.child!r} has no row for {label}", block.token)
    return table


def parse_bif(text: str, *, source: str | None = None):
    """Parse BIF text into a :class:`~pgm.network.BayesianNetwork`.

    Raises
    ------
    ParseError
        A syntax error or an inconsistent block; the message gives line and column.
    CPDError, CycleError
        Tables that are not distributions, or a cyclic graph.
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
            raise ParseError(str(exc), block.token.line, block.token.column, source) from None
    return BayesianNetwork._from_bound(cpds, name=name or "network")


def read_bif(path) -> "BayesianNetwork":  # noqa: F821
    """Read a BIF file.

    Examples
    --------
    >>> import pgm
    >>> from pgm.io import read_bif
    >>> net = read_bif(pgm.datasets.path("child"))
    >>> net.states("ChestXray")[-1]
    'Asy/Patch'
    """
    with open(path, encoding="utf-8") as handle:
        return parse_bif(handle.read(), source=str(path))


_PLAIN_NAME = re.compile(r"[^\s{}\[\]();,|\"]+")


def _quote(name: str) -> str:
    if _PLAIN_NAME.fullmatch(name) and "//" not in name and "/*" not in name:
        return name
    if '"' in name or "\n" in name:
        raise CPDError(f"the name {name!r} cannot be written to BIF (it contains a quote or a newline)")
    return f'"{name}"'


def _numbers(values) -> str:
    return ", ".join(repr(float(v)) for v in values)


def format_bif(network) -> str:
    """The network as BIF text (discrete networks only)."""
    for node in network.nodes:
        if not network[node].is_discrete:
            raise CPDError(
                f"node {node!r} is continuous; BIF holds discrete networks only -- write JSON instead"
            )
    lines = [f"network {_quote(network.name)} {{", "}"]
    for node in network.nodes:
        states = ", ".join(_quote(s) for s in network[node].states)
        lines += [f"variable {_quote(node)} {{", f"  type discrete [ {len(network[node].states)} ] {{ {states} }};", "}"]
    for node in network.nodes:
        cpd = network[node]
        if not cpd.parents:
            lines += [f"probability ( {_quote(node)} ) {{", f"  table {_numbers(cpd.table)};", "}"]
            continue
        parents = ", ".join(_quote(p) for p in cpd.parents)
        lines.append(f"probability ( {_quote(node)} | {parents} ) {{")
        flat = cpd.table.reshape(-1, len(cpd.states))
        for config, row in enumerate(flat):
            codes = np.unravel_index(config, cpd.table.shape[:-1])
            states = ", ".join(_quote(domain[c]) for domain, c in zip(cpd.parent_states, codes))
            lines.append(f"  ({states}) {_numbers(row)};")
        lines.append("}")
    return "\n".join(lines) + "\n"


def write_bif(network, path) -> None:
    """Write a discrete network to ``path`` as BIF, atomically."""
    from pgm.io._files import write_text_atomically

    write_text_atomically(path, format_bif(network))
