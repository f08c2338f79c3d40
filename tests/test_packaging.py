"""xentref, built as a wheel, installs and works with NumPy alone.

The wheel is built from a copy of the package without build isolation and
installed with ``--no-deps --no-index`` into a fresh virtual environment, so
nothing is fetched from the network. The only other package that environment
can import is the NumPy of the project's own environment, put on its path:
SymPy is absent, as for a user who installed ``xentref`` without extras.

The same wheel is then installed beside the oldest NumPy that pyproject.toml
allows, fetched from the package index, and every public function, and its
gradient, is called there on the seeded inputs of the contract's accuracy
test (tests/cases.py); the results must keep their dtype and lie within the
contract's ulps of xentref.exact, which runs here.
"""

import importlib.metadata
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT
from packaging.requirements import Requirement
from packaging.version import Version

# Run inside the fresh environment; prints what the test then checks.
CHECK = """
import importlib.metadata, importlib.resources, json, sys
import xentref
from xentref import grad
result = {
    "file": xentref.__file__,
    "requires": importlib.metadata.requires("xentref"),
    "one_hot": float(xentref.cross_entropy([1.0, 0.0, 0.0], [0.7, 0.2, 0.1])),
    "tiny": float(xentref.softmax_cross_entropy([[30.0, 0.0]], [0])),
    "gradient": grad.softmax_cross_entropy([[0.0, 0.0]], [0]).tolist(),
    "typed": importlib.resources.files("xentref").joinpath("py.typed").is_file(),
}
for name in ["sympy", "xentref.symbolic"]:
    try:
        __import__(name)
        result[name] = None
    except ImportError as error:
        result[name] = str(error)
print(json.dumps(result))
"""


def run(*command, cwd=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd, env=environment)
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def numpy_only(directory):
    """A folder that holds the project's NumPy and nothing else."""
    numpy = importlib.metadata.distribution("numpy")
    site = numpy.locate_file("")
    tops = {str(path).split("/")[0] for path in numpy.files}
    directory.mkdir()
    for top in tops:
        if top.startswith("numpy"):
            (directory / top).symlink_to(site / top)
    return directory


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """The Python of a fresh environment with the xentref wheel and NumPy only."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT / "xentref", source / "xentref", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ["pyproject.toml", "README.md", "LICENSE"]:
        shutil.copy(ROOT / name, source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run(*pip, "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index", "-w", work / "dist", source)
    (wheel,) = (work / "dist").glob("xentref-*.whl")

    environment = work / "venv"
    venv.EnvBuilder(with_pip=True).create(environment)
    python = environment / "bin" / "python"
    run(python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-deps", "--no-index", wheel)
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site_packages / "numpy_only.pth").write_text(f"{numpy_only(work / 'numpy-only')}\n")
    return python, work


@pytest.fixture(scope="module")
def checked(bare):
    python, work = bare
    return json.loads(run(python, "-c", CHECK, cwd=work))


def test_the_wheel_is_what_the_environment_imports(checked, bare):
    assert checked["file"].startswith(str(bare[1] / "venv")), checked["file"]


def test_the_core_depends_on_numpy_alone(checked):
    requires = checked["requires"]
    core = [r for r in requires if "extra ==" not in r]
    assert core == ["numpy>=2.0"]
    assert 'sympy>=1.13; extra == "symbolic"' in requires
    assert 'python-flint>=0.9; extra == "exact"' in requires


def test_losses_work_with_numpy_alone(checked):
    # Independent values: -log 0.7, log(1 + e^-30), and softmax(0, 0) - e_0.
    assert math.isclose(checked["one_hot"], -math.log(0.7), rel_tol=1e-15)
    assert math.isclose(checked["tiny"], math.log1p(math.exp(-30.0)), rel_tol=1e-15)
    assert checked["gradient"] == [[-0.5, 0.5]]


def test_without_sympy_the_symbolic_module_names_the_extra(checked):
    assert checked["sympy"] is not None, "SymPy is importable: the environment is not bare"
    assert 'pip install "xentref[symbolic]"' in checked["xentref.symbolic"]


def test_the_wheel_marks_its_type_hints_for_type_checkers(checked):
    assert checked["typed"], "py.typed is missing from the wheel (PEP 561)"


# The oldest NumPy that pyproject.toml allows --------------------------------

# Run with the oldest NumPy: call each (name, gradient?, args, kwargs) job.
CALL = """
import pickle, sys
sys.path.insert(0, sys.argv[3])
import numpy, xentref
from xentref import grad
with open(sys.argv[1], "rb") as jobs:
    jobs = pickle.load(jobs)
results = []
for name, gradient, args, kwargs in jobs:
    value = getattr(grad if gradient else xentref, name)(*args, **kwargs)
    if isinstance(value, tuple):  # several gradients: the prediction's is first
        value = value[0]
    results.append((type(value).__name__, numpy.asarray(value)))
with open(sys.argv[2], "wb") as out:
    pickle.dump({"numpy": numpy.__version__, "file": xentref.__file__, "results": results}, out)
"""


def oldest_numpy():
    """The lowest version the package's NumPy requirement allows, such as "2.0"."""
    (requirement,) = [Requirement(r) for r in pyproject()["project"]["dependencies"]
                      if Requirement(r).name == "numpy"]
    (lowest,) = [s.version for s in requirement.specifier if s.operator == ">="]
    return lowest


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def with_oldest_numpy(bare):
    """A folder with the xentref wheel and the oldest NumPy allowed, installed in it alone.

    The interpreter runs it with ``-S``: without site-packages, it imports
    nothing but the standard library and that folder.
    """
    _, work = bare
    (wheel,) = (work / "dist").glob("xentref-*.whl")
    folder = work / "oldest-numpy"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--quiet",
           "--no-deps", "--target", folder]
    run(*pip, "--only-binary=:all:", f"numpy=={oldest_numpy()}")
    run(*pip, "--no-index", wheel)
    return folder


def test_the_readme_names_the_oldest_numpy_tested():
    # The README states what this file tests, and no more.
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert f"with NumPy {Version(oldest_numpy())}.0, the oldest release allowed" in readme


def test_every_function_keeps_its_contract_with_the_oldest_numpy(with_oldest_numpy, tmp_path):
    # The inputs and tolerances of test_contract.py's two accuracy tests.
    from cases import CASES, REDUCED
    from helpers import ulps_of
    from test_contract import _mean_count, bounds, draw, grad_scales, outputs

    from xentref import exact

    jobs, expected = [], []
    for case in CASES:
        for dtype in (np.float64, np.float32):
            for extreme in (False, True):
                args, kwargs = draw(case, extreme, batch=(8,), dtype=dtype)
                options = {"reduction": "none"} if case.kind in REDUCED else {}
                jobs.append((case.name, False, args, {**kwargs, **options}))
                reference = getattr(exact, case.name)(*args, **kwargs, **options)
                expected.append((case, dtype, args, kwargs, reference))
                if case.gradient is not None:
                    jobs.append((case.name, True, args, kwargs))
                    reference = getattr(exact.grad, case.name)(*args, **kwargs)
                    expected.append((case, dtype, args, kwargs, reference))
    (tmp_path / "jobs.pickle").write_bytes(pickle.dumps(jobs))
    run(sys.executable, "-S", "-c", CALL, tmp_path / "jobs.pickle", tmp_path / "results.pickle",
        with_oldest_numpy, cwd=tmp_path)
    answer = pickle.loads((tmp_path / "results.pickle").read_bytes())

    assert Version(answer["numpy"]) == Version(oldest_numpy()), answer["numpy"]
    assert answer["file"].startswith(str(with_oldest_numpy)), answer["file"]
    assert len(answer["results"]) == len(jobs) > 100
    for (name, gradient, _, _), (kind, actual), (case, dtype, args, kwargs, reference) in zip(
        jobs, answer["results"], expected, strict=True
    ):
        what = f"{'grad.' if gradient else ''}{name} ({np.dtype(dtype).name}) with NumPy {answer['numpy']}"
        assert actual.dtype == dtype, f"{what} returned {actual.dtype}"
        assert kind in ("ndarray", np.dtype(dtype).type.__name__), f"{what} returned a {kind}"
        if gradient:
            reference = outputs(reference)[0]
            scale = grad_scales(case, args, kwargs, _mean_count(case, args, kwargs))[0]
            limit = bounds(case)[0]
        else:
            scale, limit = case.scale and case.scale(args, kwargs), case.ulps
        errors = ulps_of(actual, reference, scale)
        assert np.max(errors) <= limit, f"{what}: {np.max(errors)} ulps from xentref.exact"
