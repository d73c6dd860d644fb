"""The stage server (tests/stage_server.py) runs a script as `python SCRIPT ARGS` would: the caller's arguments,
directory, environment, streams and exit status, and an end that stops what the script started."""

import subprocess
import textwrap
import time
from pathlib import Path

from conftest import tool_env
from stage_server import FORKED_PYTHON, SOCKET_ENV


def forked(script, tmp_path, stage_server, *args, **env) -> subprocess.CompletedProcess:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script))
    return subprocess.run(
        [*FORKED_PYTHON, str(path), *args], check=False, cwd=tmp_path, env={**tool_env(), SOCKET_ENV: stage_server, **env},
        capture_output=True, text=True, timeout=120,
    )


def test_a_script_gets_the_callers_arguments_directory_environment_and_streams(tmp_path, stage_server):
    result = forked(
        """
        import os, sys
        print(sys.argv[1:], os.getcwd(), os.environ["ASKED"])
        print("to stderr", file=sys.stderr)
        sys.exit(int(sys.argv[1]))
        """,
        tmp_path, stage_server, "3", "x", ASKED="yes",
    )
    assert result.returncode == 3
    assert result.stdout == f"['3', 'x'] {tmp_path} yes\n" and result.stderr == "to stderr\n"


def test_an_error_is_a_traceback_and_exit_status_1(tmp_path, stage_server):
    result = forked("raise ValueError('broken')\n", tmp_path, stage_server)
    assert result.returncode == 1 and result.stderr.rstrip().endswith("ValueError: broken") and "Traceback" in result.stderr


def test_the_end_stops_joblibs_workers_and_removes_temporary_folders(tmp_path, stage_server):
    """As the interpreter ends: threading's exit hooks stop the worker pool, atexit removes temporary folders."""
    start = time.monotonic()
    result = forked(
        """
        import tempfile
        from joblib import Parallel, delayed
        print(sum(Parallel(n_jobs=2)(delayed(abs)(-i) for i in range(4))))
        scratch = tempfile.TemporaryDirectory()
        print(scratch.name)
        """,
        tmp_path, stage_server,
    )
    assert result.returncode == 0, result.stderr
    total, scratch = result.stdout.split()
    assert total == "6" and not Path(scratch).exists()
    assert time.monotonic() - start < 60, "joblib's workers, which hold the script's streams, outlived it (300 s idle)"
