"""TensorFlow loaded without its start-up chatter: the stages that run a model and `cocktail separate` print what
concerns the user's data, not which CPU instructions TensorFlow was built without."""

import contextlib
import os
import re
import sys
import tempfile

# What TensorFlow's C++ libraries print while they load, whatever TF_CPP_MIN_LOG_LEVEL says: abseil's banner, its
# info and warning lines (oneDNN, CPU instructions, missing CUDA drivers) and, on a machine without a GPU, the CUDA
# plug-ins' errors. None of it is about the user's recording.
STARTUP_CHATTER = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] "
    r"|E\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+:\d+\] .*(cuInit|CUDA|cuDNN|cuFFT|cuBLAS)"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags"
)


@contextlib.contextmanager
def quiet_tensorflow_startup():
    """Holds back what reaches file descriptor 2 (where C++ writes) while TensorFlow loads, then passes on every
    line that is not start-up chatter; TF_CPP_MIN_LOG_LEVEL=3 silences what TensorFlow logs afterwards (the cuInit
    error on a machine without a GPU). Only messages are dropped: a GPU, where there is one, is still used."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    with tempfile.TemporaryFile() as held:
        stderr = os.dup(2)
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(stderr, 2)
            os.close(stderr)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not STARTUP_CHATTER.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
