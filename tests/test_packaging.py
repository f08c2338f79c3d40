"""xentref, built as a wheel, installs and works with NumPy alone.

The wheel is built from a copy of the package without build isolation and
installed with ``--no-deps --no-index`` into a fresh virtual environment, so
nothing is fetched from the network. The only other package that environment
can import is the NumPy of the project's own environment, put on its path:
SymPy is absent, as for a user who installed ``xentref`` without extras.
"""

import importlib.metadata
import json
import math
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from helpers import ROOT

# Run inside the fresh environment; prints what the test then checks.
CHECK = """
import importlib.metadata, json, sys
import xentref
from xentref import grad
result = {
    "file": xentref.__file__,
    "requires": importlib.metadata.requires("xentref"),
    "one_hot": float(xentref.cross_entropy([1.0, 0.0, 0.0], [0.7, 0.2, 0.1])),
    "tiny": float(xentref.softmax_cross_entropy([[30.0, 0.0]], [0])),
    "gradient": grad.softmax_cross_entropy([[0.0, 0.0]], [0]).tolist(),
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
