"""`ipv2/contract.py` is the only definition of the names, defaults and ranges a user chooses.

`restatements` reads a module with `ast` and reports what restates the contract instead of
importing it; the tests run it over ipv2/, IPv2Lib/, IPv2Denoise/ and IPv2Purify/, and on
planted sources to show what it finds and what it leaves alone:

- a literal tuple, list, set or dict (its keys) of strings sharing two or more members with a
  contract choice list and made of its members only (`("ipv2", "ipv2m")` restates part of
  MODES) or holding all of them (a copy of KERNELS with a kernel added). A literal that mixes
  some members with strings of its own (`("low", "mid", "high")`, bands of a spectrum) speaks
  another vocabulary. A dict keyed by members of a list its module imports from the contract
  is a table keyed by the contract's names (name -> builder), not a second list;
- a literal bound to a contract constant's name with the contract's value: an assignment or a
  field (`DEFAULT_KERNEL = "standard"`, `dose: float = 0.02`, `LABEL_BODY = 0`), a parameter's
  default (`def f(kernel="standard")`) or a command-line flag's (`add_argument("--dose",
  default=0.02)`). DEFAULT_ may be left out, and so may leading words that the place says
  (`steps` in `TrainConfig` or in ipv2/cli/train.py is DEFAULT_TRAIN_STEPS; `DEFAULT_SIZE` in
  the phantom is not DEMO_SIZE);
- a panel's `WithinRange(...)` given a literal number.

Requiring the value together with its name, or the members together with no foreign ones, is
what keeps coincidences out; MUST_RESTATE holds the few restatements that must stay, each with
its reason.
"""

from __future__ import annotations

import ast
import numbers
import operator
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from ipv2 import contract

REPOSITORY = Path(__file__).resolve().parents[1]
SCANNED_FOLDERS = ("ipv2", "IPv2Lib", "IPv2Denoise", "IPv2Purify")
CONTRACT_FILE = REPOSITORY / "ipv2" / "contract.py"
DEFAULT_WORD = "default"
# What the panels show for the codes: labels of the choice lists, not a choice list of their own.
NOT_A_CHOICE_LIST = ("CHOICE_LABELS",)
# Restatements that must stay, (file, contract name) -> why.
BATCH_SCRIPT = "IPv2Denoise/Scripts/IPv2BatchDenoise.py"
GUARD_EXIT_CODES = "Slicer's batch run needs an exit code even when ipv2 cannot be imported"
MUST_RESTATE = {
    (BATCH_SCRIPT, "EXIT_USER_ERROR"): GUARD_EXIT_CODES,
    (BATCH_SCRIPT, "EXIT_CANCELLED"): GUARD_EXIT_CODES,
}


@dataclass(frozen=True)
class Restatement:
    path: str
    line: int
    name: str  # the contract's name it restates
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} restates {self.name}"


@dataclass(frozen=True)
class Vocabulary:
    """What the contract defines, by its names."""

    choice_lists: dict[str, frozenset[str]]  # e.g. KERNELS -> {"smooth", ...}
    constants: dict[str, object]  # every other value: DEFAULT_DOSE -> 0.02, STRENGTH_RANGE -> (1.0, 100.0)


def contract_vocabulary(module=contract) -> Vocabulary:
    choice_lists, constants = {}, {}
    for name, value in vars(module).items():
        if not name.isupper() or name in NOT_A_CHOICE_LIST:
            continue
        names = tuple(value) if isinstance(value, dict) else value
        if isinstance(names, tuple) and len(names) >= 2 and all(isinstance(item, str) for item in names):
            choice_lists[name] = frozenset(names)
        elif _is_scalar(value) or (isinstance(value, tuple) and all(map(_is_scalar, value))):
            constants[name] = value
    return Vocabulary(choice_lists, constants)


def _is_scalar(value) -> bool:
    return isinstance(value, (str, numbers.Number)) and not isinstance(value, bool)


def words(name: str) -> list[str]:
    """`DEFAULT_TRAIN_STEPS`, `trainSteps`, `TrainConfig`, `ipv2/cli/train.py` as lower-case words."""
    return [word.lower() for word in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)]


def names_match(local_name: str, contract_name: str, place: set[str]) -> bool:
    """Whether `local_name`, standing in `place` (the words of its file, class and function),
    names the contract's `contract_name`: the same words but DEFAULT_ and leading words the
    place already says (`train` is said by `TrainConfig` and by ipv2/training/)."""
    local = [word for word in words(local_name) if word != DEFAULT_WORD]
    wanted = [word for word in words(contract_name) if word != DEFAULT_WORD]
    if not local or len(local) > len(wanted) or wanted[len(wanted) - len(local) :] != local:
        return False
    return all(any(said.startswith(word) for said in place) for word in wanted[: len(wanted) - len(local)])


ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Pow: operator.pow}


def _literal(node: ast.AST):
    """The value of a literal number (`2**32 - 1` included), string or tuple of them, else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _literal(node.operand)
        return -inner if isinstance(inner, numbers.Number) else None
    if isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC:
        left, right = _literal(node.left), _literal(node.right)
        if isinstance(left, numbers.Number) and isinstance(right, numbers.Number):
            return ARITHMETIC[type(node.op)](left, right)
        return None
    if isinstance(node, ast.Constant) and _is_scalar(node.value):
        return node.value
    if isinstance(node, ast.Tuple) and node.elts:
        values = tuple(_literal(element) for element in node.elts)
        return None if any(value is None or isinstance(value, tuple) for value in values) else values
    return None


def _same_value(literal, value) -> bool:
    if isinstance(literal, tuple) or isinstance(value, tuple):
        return (
            isinstance(literal, tuple)
            and isinstance(value, tuple)
            and len(literal) == len(value)
            and all(map(_same_value, literal, value))
        )
    if isinstance(literal, str) or isinstance(value, str):
        return literal == value
    return float(literal) == float(value)


def _string_members(node: ast.AST) -> list[str]:
    elements = node.keys if isinstance(node, ast.Dict) else node.elts
    return [
        element.value for element in elements if isinstance(element, ast.Constant) and isinstance(element.value, str)
    ]


def _contract_imports(tree: ast.Module) -> set[str]:
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "ipv2.contract"
        for alias in node.names
    }


class _Bindings(ast.NodeVisitor):
    """(name, value node, place) for every assignment, field, parameter default and flag default;
    the place is the words of the file and of the classes and functions around it."""

    def __init__(self, path: str):
        self.place = [set(words(path))]
        self.found: list[tuple[str, ast.AST, set[str]]] = []

    def _add(self, name: str, value: ast.AST) -> None:
        self.found.append((name, value, set().union(*self.place)))

    def _scoped(self, node) -> None:
        self.place.append(set(words(node.name)))
        self.generic_visit(node)
        self.place.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._scoped(node)

    def visit_FunctionDef(self, node) -> None:
        self._add_defaults(node.args)
        self._scoped(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._add_defaults(node.args)
        self.generic_visit(node)

    def _add_defaults(self, arguments: ast.arguments) -> None:
        positional = arguments.posonlyargs + arguments.args
        for argument, default in zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults):
            self._add(argument.arg, default)
        for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults):
            if default is not None:
                self._add(argument.arg, default)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._add(target.id, node.value)
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                for element, value in zip(target.elts, node.value.elts):
                    if isinstance(element, ast.Name):
                        self._add(element.id, value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if isinstance(node.target, ast.Name) and node.value is not None:
            self._add(node.target.id, node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        flags = [
            argument.value
            for argument in node.args
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value[:2] == "--"
        ]
        for keyword in node.keywords:
            if keyword.arg == "default" and flags:
                self._add(flags[-1][2:], keyword.value)
        self.generic_visit(node)


def restatements(source: str, path: str = "module.py", vocabulary: Vocabulary | None = None) -> list[Restatement]:
    """Where `source`, the text of the module at `path`, restates a choice list or a value of the contract."""
    vocabulary = vocabulary or contract_vocabulary()
    tree = ast.parse(source, filename=path)
    imported = _contract_imports(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
            members = set(_string_members(node))
            list_name = _restated_list(members, isinstance(node, ast.Dict), imported, vocabulary)
            if list_name:
                found.append(Restatement(path, node.lineno, list_name, str(sorted(members))))
        called = getattr(node, "func", None)
        if isinstance(node, ast.Call) and getattr(called, "id", getattr(called, "attr", None)) == "WithinRange":
            if any(isinstance(_literal(argument), numbers.Number) for argument in node.args):
                found.append(Restatement(path, node.lineno, "a range", f"{ast.unparse(node)} of literal numbers"))
    bindings = _Bindings(path)
    bindings.visit(tree)
    for name, value, place in bindings.found:
        literal = _literal(value)
        if literal is None:
            continue
        for contract_name, contract_value in vocabulary.constants.items():
            if _same_value(literal, contract_value) and names_match(name, contract_name, place):
                found.append(Restatement(path, value.lineno, contract_name, f"{name} = {literal!r}"))
    return found


def _restated_list(members: set[str], keys: bool, imported: set[str], vocabulary: Vocabulary) -> str | None:
    """The name of the contract list `members` restates, or None."""
    candidates = [
        (len(members & choices), -len(choices), list_name)
        for list_name, choices in vocabulary.choice_lists.items()
        if len(members & choices) >= 2 and (members <= choices or choices <= members)
    ]
    if not candidates:
        return None
    if keys and any(members <= vocabulary.choice_lists[name] for name in imported & vocabulary.choice_lists.keys()):
        return None  # a table keyed by the names of a list the module takes from the contract
    return max(candidates)[2]


def scanned_files() -> list[Path]:
    return sorted(
        path for folder in SCANNED_FOLDERS for path in (REPOSITORY / folder).rglob("*.py") if path != CONTRACT_FILE
    )


def test_no_module_restates_the_contract():
    vocabulary = contract_vocabulary()
    found = [
        restatement
        for path in scanned_files()
        for restatement in restatements(
            path.read_text(encoding="utf-8"), path.relative_to(REPOSITORY).as_posix(), vocabulary
        )
        if (restatement.path, restatement.name) not in MUST_RESTATE
    ]
    assert not found, "restated instead of imported from ipv2.contract:\n" + "\n".join(map(str, found))


def test_the_allowed_restatements_are_still_there():
    """An entry of MUST_RESTATE whose restatement is gone must go too."""
    for path, name in MUST_RESTATE:
        source = (REPOSITORY / path).read_text(encoding="utf-8")
        assert name in {restatement.name for restatement in restatements(source, path)}, (path, name)


# The scanner on planted sources: each restatement below is found, each import is not.
RESTATED = [
    ('KERNELS = ("smooth", "standard", "sharp", "lung")', "KERNELS"),
    ('KINDS = ["smooth", "standard", "sharp", "lung", "bone"]  # with one of its own', "KERNELS"),
    ('if mode in ("ipv2", "ipv2m"):\n    pass', "MODES"),
    ("LOSS_FUNCTIONS = {'l1': l1, 'mse': mse}", "LOSSES"),
    ('DEFAULT_KERNEL = "standard"', "DEFAULT_KERNEL"),
    ("class TrainConfig:\n    DEFAULT_STEPS = 2000", "DEFAULT_TRAIN_STEPS"),
    ("class Options:\n    dose: float = 0.02", "DEFAULT_DOSE"),
    ('def simulate(hu, kernel="standard"):\n    pass', "DEFAULT_KERNEL"),
    ('def run(*, device: str = "auto"):\n    pass', "DEFAULT_DEVICE"),
    ('parser.add_argument("--dose", type=float, default=0.02)', "DEFAULT_DOSE"),
    ("SEED_RANGE = (0, 2**32 - 1)", "SEED_RANGE"),
    ("LABEL_BODY, LABEL_BACKGROUND = 0, 1", "LABEL_BODY"),
    ("class Node:\n    dose: Annotated[float, WithinRange(0.005, 1.0)] = DEFAULT_DOSE", "a range"),
    ("class PanelNode:\n    trainSteps: int = 2000", "DEFAULT_TRAIN_STEPS"),
]


@pytest.mark.parametrize(("source", "name"), RESTATED)
def test_a_planted_restatement_is_found(source, name):
    assert name in {restatement.name for restatement in restatements(source, "ipv2/planted.py")}


IMPORTED = [
    "from ipv2.contract import KERNELS\nrequire_choice(kernel, KERNELS, 'kernel')",
    "from ipv2.contract import DEFAULT_KERNEL\nDEFAULT = DEFAULT_KERNEL\ndef simulate(hu, kernel=DEFAULT_KERNEL): pass",
    "from ipv2.contract import WEAK_DENOISERS\nTABLE = {'nlm': nlm, 'tv': tv, 'bm3d': bm3d}  # keyed by its names",
    "from ipv2.contract import PANEL_DOSE_RANGE\n"
    "class Node:\n    dose: Annotated[float, WithinRange(*PANEL_DOSE_RANGE)] = 1",
    'from ipv2.contract import SIMULATE_MODES as MODES\nif mode == "physical":\n    pass',
]
COINCIDENCES = [
    'BANDS = ("low", "mid", "high")  # a spectrum\'s bands: strings of their own beside two strengths',
    'def as_dict(self):\n    return {"mean": self.mean, "low": self.low, "high": self.high}',
    "DEFAULT_SIZE = 512  # the phantom's matrix: nothing here says demo",
    "class Acquisition:\n    slices: int = 8",
    'def project(geometry, kind: str = "auto"):\n    pass',
    "seed: int = 0",
]


@pytest.mark.parametrize("source", IMPORTED + COINCIDENCES)
def test_an_import_or_a_coincidence_is_not_a_restatement(source):
    assert restatements(source, "ipv2/planted.py") == []


def test_the_same_table_is_a_restatement_without_the_import():
    table = "TABLE = {'nlm': nlm, 'tv': tv, 'bm3d': bm3d}"
    assert [restatement.name for restatement in restatements(table)] == ["WEAK_DENOISERS"]


def test_a_value_counts_where_its_place_names_it():
    assert restatements("DEFAULT_SIZE = 512", "ipv2/services/demo.py")[0].name == "DEMO_SIZE"
    assert restatements("DEFAULT_SIZE = 512", "ipv2/phantom/acquisition.py") == []


def test_the_scan_covers_the_backend_and_both_panels():
    scanned = {path.relative_to(REPOSITORY).as_posix() for path in scanned_files()}
    assert {"ipv2/purify/options.py", "IPv2Lib/PurifyLogic.py", "IPv2Denoise/IPv2Denoise.py"} <= scanned
    assert "IPv2Purify/IPv2Purify.py" in scanned and "ipv2/contract.py" not in scanned
