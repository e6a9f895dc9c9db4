#!/usr/bin/python3
# Hazard: CPython's signalinterproctester (test_signal): a child process
# started with subprocess (vfork, then the child resets every handler to
# SIG_DFL before exec) sends its parent SIGHUP, then SIGUSR1 (whose
# handler raises), while the parent waits for it; the parent then loops
# "until the handler ran: signal.pause()". Natively the handler has run
# by the time wait() returns and the loop never pauses; a handler lost (the
# child's reset taken for the parent's) hangs it. Then SIGALRM's
# KeyboardInterrupt ends a pause. A signal the process sends itself
# (os.kill, signal.pidfd_send_signal) runs its handler before the next
# line. Before any thread is started, then with one parked in a read.
import os
import signal
import subprocess
import sys
import threading

got = {"SIGHUP": 0, "SIGUSR1": 0}


class Usr1(Exception):
    pass


def on_hup(signum, frame):
    got["SIGHUP"] += 1


def on_usr1(signum, frame):
    got["SIGUSR1"] += 1
    raise Usr1


def check(what, ok):
    print(what, "yes" if ok else "NO")
    return ok


def child_sends(signame):
    code = "import os, signal; os.kill(%d, signal.%s)" % (os.getpid(), signame)
    return subprocess.Popen([sys.executable, "-I", "-c", code])


def wait_signal(child, signame):
    before = got[signame]
    if child is not None:
        child.wait()
    check("  its handler had run when wait() returned", got[signame] > before)
    while got[signame] == before:
        signal.pause()


def round_trip(when):
    print(when)
    before = dict(got)
    with child_sends("SIGHUP") as child:
        wait_signal(child, "SIGHUP")
    check("  SIGHUP's handler ran once", got["SIGHUP"] == before["SIGHUP"] + 1)
    child = None
    raised = False
    try:
        with child_sends("SIGUSR1") as child:
            wait_signal(child, "SIGUSR1")
    except Usr1:
        raised = True
    check("  SIGUSR1's handler raised out of the wait", raised)
    check("  and ran once", got["SIGUSR1"] == before["SIGUSR1"] + 1)
    with child_sends("SIGUSR2") as child:
        check("  an ignored SIGUSR2 changes nothing", child.wait() == 0)
    interrupted = False
    try:
        signal.alarm(1)
        signal.pause()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.alarm(0)
    check("  SIGALRM's KeyboardInterrupt ends a pause", interrupted)

    n = got["SIGHUP"]
    os.kill(os.getpid(), signal.SIGHUP)
    check("  os.kill of our own pid: handler ran before the next line", got["SIGHUP"] == n + 1)
    fd = os.open("/proc/%d" % os.getpid(), os.O_DIRECTORY)
    try:
        signal.pidfd_send_signal(fd, signal.SIGHUP)
        check("  pidfd_send_signal: handler ran before the next line", got["SIGHUP"] == n + 2)
    finally:
        os.close(fd)


signal.signal(signal.SIGHUP, on_hup)
signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGUSR2, signal.SIG_IGN)
signal.signal(signal.SIGALRM, signal.default_int_handler)

round_trip("no thread started yet")
r, w = os.pipe()
reader = threading.Thread(target=os.read, args=(r, 1))
reader.start()
round_trip("a thread parked in a read")
os.write(w, b"x")
reader.join()
