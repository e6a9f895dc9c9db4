/* needs: private-tls */
/* Hazard: Rust's std turns Duration::MAX into the largest timespec it can
 * (tv_sec = i64::MAX for thread::sleep, a saturated deadline for
 * Condvar::wait_timeout, park_timeout and mpsc's recv_timeout), which the
 * kernel reads as "for ever". Multiplied into 64-bit nanoseconds it wraps:
 * the sleep ended after about a second, a deadline could abort the
 * process. Each waits in its own thread; after 1.5 s (main sleeping beside
 * them) none has ended; then the condition is notified, the parked thread
 * unparked and the channel sent to, and each of those ends with the native
 * answer (not timed out). The sleeper sleeps on until the process exits. */
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

static FAILURES: AtomicUsize = AtomicUsize::new(0);
static SLEEP_ENDED: AtomicBool = AtomicBool::new(false);

fn check(ok: bool, what: &str) {
    println!("{} {}", what, if ok { "yes" } else { "NO" });
    if !ok {
        FAILURES.fetch_add(1, SeqCst);
    }
}

fn main() {
    thread::spawn(|| {
        thread::sleep(Duration::MAX);
        SLEEP_ENDED.store(true, SeqCst);
    });

    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p2 = pair.clone();
    let cond = thread::spawn(move || {
        let (m, c) = &*p2;
        let mut go = m.lock().unwrap();
        let mut timed_out = false;
        while !*go && !timed_out {
            let (g, r) = c.wait_timeout(go, Duration::MAX).unwrap();
            go = g;
            timed_out = r.timed_out();
        }
        timed_out
    });

    let parked_done = Arc::new(AtomicBool::new(false));
    let pd = parked_done.clone();
    let unpark_me = Arc::new(AtomicBool::new(false));
    let um = unpark_me.clone();
    let parked = thread::spawn(move || {
        while !um.load(SeqCst) {
            thread::park_timeout(Duration::MAX);
        }
        pd.store(true, SeqCst);
    });

    let (tx, rx) = mpsc::channel::<u32>();
    let receiver = thread::spawn(move || rx.recv_timeout(Duration::MAX));

    let t0 = Instant::now();
    for _ in 0..150 {
        thread::sleep(Duration::from_millis(10));
    }
    check(t0.elapsed() >= Duration::from_millis(1500), "main slept 150 x 10 ms beside them");
    check(!SLEEP_ENDED.load(SeqCst), "sleep(Duration::MAX) still sleeps");
    check(!cond.is_finished(), "wait_timeout(Duration::MAX) still waits");
    check(!parked_done.load(SeqCst), "park_timeout(Duration::MAX) still parked");
    check(!receiver.is_finished(), "recv_timeout(Duration::MAX) still waits");

    {
        let (m, c) = &*pair;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
    unpark_me.store(true, SeqCst);
    parked.thread().unpark();
    tx.send(7).unwrap();

    check(!cond.join().unwrap(), "wait_timeout notified: not timed out");
    parked.join().unwrap();
    check(parked_done.load(SeqCst), "park_timeout unparked");
    check(receiver.join().unwrap() == Ok(7), "recv_timeout got the value");
    check(!SLEEP_ENDED.load(SeqCst), "sleep(Duration::MAX) sleeps on");

    let n = FAILURES.load(SeqCst);
    if n == 0 {
        println!("all checks passed");
    } else {
        println!("{} checks FAILED", n);
    }
    std::process::exit(if n == 0 { 0 } else { 1 });
}
