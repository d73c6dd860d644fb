"""The stages' imports (TensorFlow and Keras, librosa, scikit-learn, matplotlib: 5 to 8 s a process on 2 cores) paid
once per test worker instead of once per stage run.

`python tests/stage_server.py serve SOCKET` imports every stage's modules, then serves: for each request it forks a child
that runs `pipeline/<stage>.py` as `__main__` with the caller's arguments, working directory, environment and
standard streams (passed as file descriptors over the Unix socket), and sends back the exit status. `python` on the
PATH of the end-to-end tests is a shim (`shim_dir`) that sends `python pipeline/<stage>.py ...` there and runs any
other command with the real interpreter: what DVC starts for a stage, what it prints and how it ends are the stage's
own, less the start-up. The project's first `dvc repro` runs every stage as a process of its own. `FORKED_PYTHON`
starts any script there, as the training processes of tests/engine/test_distribute.py.

Only the standard library is imported at module level: the shim runs with `python -S`."""

import array
import atexit
import json
import os
import runpy
import socket
import sys
import threading
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("prepare", "mix", "features", "train", "evaluate", "oracle", "report")
SOCKET_ENV = "COCKTAIL_STAGE_SERVER"
FDS = 3  # stdin, stdout, stderr
FORKED_PYTHON = [sys.executable, "-S", str(Path(__file__).resolve()), "run"]  # + script and arguments; $COCKTAIL_STAGE_SERVER set


def is_stage_command(argv: list[str]) -> bool:
    return len(argv) >= 1 and argv[0].startswith("pipeline/") and argv[0].endswith(".py")


def run_forked(
    socket_path: str, argv: list[str], cwd: str, env: dict[str, str], fds: tuple[int, int, int], setup: str = "",
    timeout: float | None = None,
) -> int:
    """Runs `python ARGV` in a child of the server with these streams, after the Python code `setup` (what must come
    before TensorFlow starts, such as logical devices); returns its exit status."""
    request = json.dumps({"argv": argv, "cwd": cwd, "env": env, "setup": setup}).encode() + b"\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(socket_path)
        sent = conn.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
        conn.sendall(request[sent:])
        answer = b""
        while chunk := conn.recv(64):
            answer += chunk
    if not answer.strip():
        os.write(fds[2], f"stage server: {' '.join(argv)} ended without an exit status (killed by a signal?)\n".encode())
        return 1
    return int(answer)


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, ancillary, _, _ = conn.recvmsg(1 << 16, socket.CMSG_SPACE(FDS * array.array("i").itemsize))
    fds = array.array("i")
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    while not data.endswith(b"\n"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("request cut short")
        data += chunk
    return json.loads(data), list(fds)


def run_stage_here(request: dict, fds: list[int]) -> int:
    """In the forked child: become the stage's process, run it, and return its exit status."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.argv = request["argv"]
    try:
        exec(request["setup"], {})  # noqa: S102  (the test's own code, as `python -c` would run it)
        runpy.run_path(sys.argv[0], run_name="__main__")
        code = 0
    except SystemExit as stop:
        if isinstance(stop.code, int) or stop.code is None:
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
            code = 1
    except BaseException:  # noqa: BLE001  (whatever ends the stage, as the interpreter would report it)
        traceback.print_exc()
        code = 1
    # What the interpreter runs as it ends, in its order: threading's exit hooks (joblib stops its workers) with the
    # other threads joined, then the atexit functions (temporary folders removed).
    threading._shutdown()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def reap_finished_children() -> None:
    """Zombies are reaped here rather than by ignoring SIGCHLD, which the children would inherit: joblib's worker pool
    then waits out its 300 s idle timeout before a stage can end."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def serve(socket_path: str) -> None:
    for stage in STAGES:
        runpy.run_path(str(ROOT / "pipeline" / f"{stage}.py"), run_name="preloaded")  # imports only: main runs under "__main__"
    import numpy as np

    from cocktail.dsp.stft import StftConfig, istft, stft

    istft(stft(np.zeros(512, np.float32), StftConfig()), StftConfig(), 512)  # librosa loads its submodules on first use
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(socket_path)
        server.listen()
        print("ready", flush=True)
        while True:
            conn, _ = server.accept()
            reap_finished_children()
            request, fds = receive(conn)
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                server.close()
                code = 1
                try:
                    code = run_stage_here(request, fds)
                    conn.sendall(f"{code}\n".encode())
                finally:
                    os._exit(code)
            conn.close()
            for fd in fds:
                os.close(fd)


def shim_dir(parent: Path) -> Path:
    """A folder holding `python`: stage commands go to the server named by $COCKTAIL_STAGE_SERVER, the rest to this
    interpreter."""
    folder = parent / "stage-shim"
    folder.mkdir(exist_ok=True)
    shim = folder / "python"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{Path(__file__).resolve()}" shim "$@"\n')
    shim.chmod(0o755)
    return folder


def run_here_forked(argv: list[str]) -> None:
    """As `python ARGV` in this process's place: its directory, environment, streams and exit status."""
    sys.exit(run_forked(os.environ[SOCKET_ENV], argv, os.getcwd(), dict(os.environ), (0, 1, 2)))


if __name__ == "__main__":
    mode, *rest = sys.argv[1:]
    if mode == "serve":
        serve(*rest)
    elif mode == "run" or (mode == "shim" and os.environ.get(SOCKET_ENV) and is_stage_command(rest)):
        run_here_forked(rest)
    else:
        os.execv(sys.executable, [sys.executable, *rest])
