"""Start a program in a private mount namespace where /opt/ml is a job's directory.

Run as `python -I -S namespace_launcher.py JOB_OPT_ML PROGRAM [ARGS...]` (a file, not `-m`: with `-S` the
editable install's path hooks are off, and without `site` the interpreter starts in about 10 ms). It uses
only the standard library, and ends by exec-ing PROGRAM, so the job's process is PROGRAM itself.

How, without root, Docker or a setuid helper:
1. unshare(CLONE_NEWUSER | CLONE_NEWNS): a user namespace where this process is uid 0 (SageMaker's
   containers run jobs as root too) and owns a new mount namespace; mounts are made private first, so
   nothing done here reaches the rest of the machine.
2. /opt/ml must exist as a mount point without disturbing the rest of /opt (which the host may use: a
   Python or a toolchain installed there). A tmpfs goes over /opt, every entry of the real /opt is
   bind-mounted back (through a descriptor opened before, so the hidden originals stay reachable), and
   the job's directory is bind-mounted at /opt/ml. Where the host already has /opt/ml (inside a SageMaker
   container, say), the job's directory simply goes over it.
Everything else of the filesystem is the host's, so the job's Python, its packages and the store paths
the engine passes in are where they were.
3. Where the kernel allows it, a PID namespace too, so that stopping the job stops everything it started,
   as stopping a container does, even a process that left the job's process group (setsid, a daemon):
   this process forks an init (pid 1 of the namespace) that starts PROGRAM, passes it the signals this
   process gets, reaps orphans and, when PROGRAM ends, ends the namespace (the kernel kills whatever is
   left in it). This process then ends as PROGRAM did (the same exit status, or killed by the same
   signal). Each of them dies with its parent (PR_SET_PDEATHSIG), so a killed modelbuild ends it all.
   Without a PID namespace, this process simply exec's PROGRAM.

Exit status 125 with a message on stderr when the namespace cannot be made (the engine reports it).
"""

import ctypes
import os
import signal
import struct
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
PR_SET_PDEATHSIG = 1
FORWARDED = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000
SETUP_FAILED = 125  # as `docker run` and `podman run` report a container that could not start
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(_c(source), _c(target), _c(fstype), ctypes.c_ulong(flags), _c(data)),
           f"mount {source or ''} on {target}")


def _c(text):
    return None if text is None else os.fsencode(text)


def _write(path, text):
    with open(path, "w") as stream:
        stream.write(text)


def enter(job_opt_ml, container_root="/opt/ml"):
    """Make this process's namespace, with `job_opt_ml` at `container_root`."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
    _write("/proc/self/setgroups", "deny")  # required before an unprivileged gid_map
    _write("/proc/self/uid_map", f"0 {uid} 1")
    _write("/proc/self/gid_map", f"0 {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if not os.path.isdir(container_root):
        parent = os.path.dirname(container_root)
        host = os.open(parent, os.O_PATH | os.O_DIRECTORY)
        entries = sorted(os.listdir(parent))
        _mount("tmpfs", parent, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
        for name in entries:
            original, target = f"/proc/self/fd/{host}/{name}", os.path.join(parent, name)
            if os.path.islink(original):
                os.symlink(os.readlink(original), target)
                continue
            if os.path.isdir(original):
                os.mkdir(target)
            else:
                open(target, "w").close()
            _mount(original, target, None, MS_BIND | MS_REC)
        os.close(host)
        os.mkdir(container_root)
    _mount(job_opt_ml, container_root, None, MS_BIND | MS_REC)


def _exec(argv):
    try:
        os.execvp(argv[0], argv)
    except OSError as exc:
        sys.stderr.write(f"modelbuild: cannot start {argv[0]!r}: {exc.strerror}\n")
    return 127  # the shell's "command not found"


def _forward_signals_to(pid):
    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for name in FORWARDED:
        signal.signal(getattr(signal, name), forward)


def _init(argv, report):
    """Pid 1 of the job's PID namespace: start PROGRAM, pass it signals, reap, report how it ended."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    job = os.fork()
    if job == 0:
        os.close(report)
        for name in FORWARDED:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        os._exit(_exec(argv))
    _forward_signals_to(job)
    while True:
        pid, status = os.wait()  # orphans of the job are reaped too
        if pid == job:
            os.write(report, struct.pack("i", status))
            os._exit(0)  # pid 1 ends: the kernel kills what is left in the namespace


def _supervise(argv):
    """Fork the namespace's init; end as its PROGRAM ended."""
    read, write = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(read)
        _init(argv, write)
    os.close(write)
    _forward_signals_to(init)
    os.waitpid(init, 0)
    data = os.read(read, 4)
    if len(data) < 4:  # init was killed before PROGRAM ended
        return 128 + signal.SIGKILL
    status = struct.unpack("i", data)[0]
    if os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        if signal.Signals(signum).name in FORWARDED:  # the others were left at their default action
            signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return 128 + signum
    return os.waitstatus_to_exitcode(status)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write("usage: namespace_launcher.py JOB_OPT_ML PROGRAM [ARGS...]\n")
        return SETUP_FAILED
    try:
        enter(argv[0])
    except OSError as exc:
        sys.stderr.write(f"modelbuild: cannot make the job's mount namespace: {exc}\n")
        return SETUP_FAILED
    if _libc.unshare(CLONE_NEWPID) != 0:  # no PID namespace here: the job's process group is all there is
        return _exec(argv[1:])
    return _supervise(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
