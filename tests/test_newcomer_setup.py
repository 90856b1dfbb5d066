"""Issue 17, items 1 and 2: the README's set-up works on a stock Debian, CI runs it as written, and the
examples say which extra they need and leave nothing behind in the temporary folder."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def setup_commands() -> list[str]:
    """The command lines of the README's set-up section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Set-up: two commands"):]
    section = section[: section.index("\n## ", 3)]
    return [block.strip() for block in re.findall(r"```text\n(.*?)```", section, flags=re.DOTALL)]


def extras() -> dict[str, str]:
    """Each optional-dependency extra of pyproject.toml and the text of its list."""
    text = (ROOT / "pyproject.toml").read_text()
    block = text[text.index("[project.optional-dependencies]"):text.index("[project.scripts]")]
    return dict(re.findall(r"^(\w+) = \[(.*?)\]$", block, flags=re.MULTILINE | re.DOTALL))


def test_the_readme_gives_two_commands_that_make_their_own_virtual_environment():
    demo, tests = setup_commands()
    for command in (demo, tests):
        assert "\n" not in command  # one line each, to paste as it is
        assert "python3 -m venv .venv" in command and ".venv/bin/pip install -e " in command
        assert "pip install" not in command.replace(".venv/bin/pip install", "")  # never the system's pip
        # apt-get install only after apt-get update: a fresh machine has no package lists
        assert command.index("apt-get update") < command.index("apt-get install")
    assert demo.endswith(".venv/bin/python examples/tour.py")
    assert "graphviz" in tests and tests.endswith(".venv/bin/python -m pytest")
    assert "'.[test]'" in tests


def test_ci_runs_the_readme_commands_exactly_as_written():
    script = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    for command in setup_commands():
        # the command starts a line of the script, unchanged; only a failure check may follow it
        assert any(line.startswith(command) and line[len(command):].strip() in ("", "\\") for line in lines), command
    # ... and nothing else installs or tests: what passes in CI is what the README promises
    assert script.count("pip install") == 2 and script.count("-m pytest") == 1
    assert "exit 1" in script  # a failing command fails the job


def test_extras_cover_the_examples_and_the_test_kernel():
    declared = extras()
    assert "scikit-learn" in declared["sklearn"]
    for needed in ("matplotlib", "scikit-learn", "dask", "distributed", "pyarrow"):
        assert needed in declared["examples"], needed
    for needed in ("ipykernel", "nbclient", "nbformat"):  # notebooks run in the test suite
        assert needed in declared["test"], needed


@pytest.mark.parametrize("script, blocked, extra", [
    ("digits_mixture.py", "sklearn", "sklearn"),
    ("generative_classifier.py", "sklearn", "sklearn"),
    ("dask_alarm.py", "dask", "dask"),
])
def test_an_example_without_its_extra_says_which_to_install(script, blocked, extra, tmp_path):
    # sys.modules[name] = None makes `import name` fail as if the package were not installed
    runner = (f"import runpy, sys; sys.modules[{blocked!r}] = None; sys.argv = [sys.argv[1], sys.argv[2]]; "
              "runpy.run_path(sys.argv[0], run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", runner, str(ROOT / "examples" / script), str(tmp_path)],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "ModuleNotFoundError" not in result.stderr
    assert f"pip install 'pgm-engine[{extra}]'" in result.stderr


@pytest.mark.skipif(shutil.which("dot") is None, reason="sprinkler.py draws only when Graphviz's dot is installed")
@pytest.mark.parametrize("script", ["chunked_fit.py", "sprinkler.py"])
def test_an_example_without_a_folder_leaves_nothing_in_the_temporary_folder(script, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary)}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / script)], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path, env=environment)
    assert result.returncode == 0, result.stderr
    assert list(temporary.iterdir()) == []
    assert list(tmp_path.iterdir()) == [temporary]  # nor in the current folder
