"""How the console script's process ends (``optviz.cli.process``): exit functions run, output
is flushed whole, exit codes are kept, and the interpreter's teardown is skipped (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

from optviz.cli import app
from optviz.cli.process import exit_code, finish

# A console-script process that also records, from an exit function and from a finalizer that
# only interpreter teardown would run, what happened before it ended.
_SCRIPT = """
import atexit, json, sys
sys.argv = ["optviz", *json.loads(sys.argv[1])]
atexit.register(lambda: sys.stderr.write("EXITFUNC ran\\n"))
class Teardown:
    def __del__(self):
        sys.stderr.write("TEARDOWN ran\\n")
keep = Teardown()  # freed only when the interpreter tears its modules down
from optviz.cli import main
main()
"""


def _console(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPTVIZ_DEBUG"} | {"COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(list(args))],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_whole_output_arrives_and_exit_functions_run_but_not_the_teardown():
    proc = _console("list", "optimizers")
    assert proc.returncode == 0, proc.stderr
    expected = CliRunner().invoke(app, ["list", "optimizers"], env={"COLUMNS": "200"}).output
    assert proc.stdout == expected and len(expected.splitlines()) > 20
    assert "EXITFUNC ran" in proc.stderr
    assert "TEARDOWN ran" not in proc.stderr


def test_a_bad_name_keeps_its_exit_code_and_its_one_line():
    proc = _console("trajectory", "adamm")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line != "EXITFUNC ran"]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("optviz: error: unknown optimizer 'adamm'; did you mean 'adam'")


def test_a_usage_error_keeps_clicks_exit_code():
    proc = _console("trajectory", "adam", "--steps", "many")
    assert proc.returncode == 2 and "EXITFUNC ran" in proc.stderr
    assert "optviz: error: Invalid value for '--steps'" in proc.stderr


@pytest.mark.parametrize(("code", "returned"), [(None, 0), (0, 0), (2, 2), (130, 130),
                                                ("a message", 1)])
def test_exit_codes_are_pythons(code, returned):
    assert exit_code(code) == returned


def test_with_another_thread_alive_the_process_ends_the_ordinary_way():
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        with pytest.raises(SystemExit) as exc:
            finish(3)  # os._exit here would end this test process
        assert exc.value.code == 3
    finally:
        stop.set()
        other.join()
