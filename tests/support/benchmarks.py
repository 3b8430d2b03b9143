"""A benchmark script imported as a module for its tests, with the benchmarks folder on the
path (the benchmarks import their shared pieces, `slab_support`, and each other)."""

import importlib.util
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load_benchmark(name: str):
    """Yields `benchmarks/<name>.py` as a module, removed from sys.modules afterwards: the
    body of a module-scoped fixture (`yield from load_benchmark(...)`)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up by name while the module runs.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]
