/* needs: private-tls */
/* Hazard: an unmodified Rust program (std only, built by Debian's rustc).
 * Rust's std keeps per-thread state in TLS that green threads must not
 * share: each thread's handle (thread::current: its name and id), the
 * panic count (thread::panicking), thread_local! values and the list of
 * their destructors; it locks through raw futexes (Mutex, Condvar, RwLock)
 * and blocks in nanosleep, accept, connect, read and write.  Checked, and
 * printed by main in a fixed order:
 *   thread_local! with Drop: 32 named threads each add to a thread_local
 *     counter across sleeps and yields and see only their own sums; each
 *     thread's value is dropped once, on that thread, at its exit, before
 *     join returns; thread::current().name() and id() are each thread's own;
 *   thread::scope: 8 scoped threads sum slices of a borrowed vector;
 *   Mutex + Condvar: a bounded queue, 3 producers x 500, 2 consumers;
 *   RwLock: writers alone, readers never see a torn pair;
 *   Barrier: 6 threads x 5 phases, one leader per phase;
 *   mpsc: 8 senders x 200 into one receiver; a sync_channel(0) rendezvous;
 *   TcpListener on 127.0.0.1:0 with a thread per connection, 16 TcpStream
 *     client threads each sending 64 KiB and getting back a checksum;
 *   panics: 16 threads panic inside catch_unwind, each unwinding through a
 *     Drop that waits (Barrier) until all are unwinding: each sees
 *     thread::panicking() true, a bystander sees false meanwhile, and each
 *     catch_unwind returns its own payload; a thread whose panic escapes
 *     gives join an Err;
 *   thread::sleep(50 ms) sleeps at least that long. */
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

static FAILURES: AtomicUsize = AtomicUsize::new(0);

fn check(ok: bool, what: &str) {
    println!("{} {}", what, if ok { "yes" } else { "NO" });
    if !ok {
        FAILURES.fetch_add(1, SeqCst);
        eprintln!("check failed: {}", what);
    }
}

fn pause_a_little(i: usize, r: usize) {
    if (i + r) % 3 == 0 {
        thread::yield_now();
    } else {
        thread::sleep(Duration::from_millis(1 + ((i * 7 + r) % 3) as u64));
    }
}

// ---- thread_local! with Drop ----

const NAMED: usize = 32;
const ROUNDS: usize = 6;

static DROPS: AtomicUsize = AtomicUsize::new(0);
static DROPS_ON_OWNER: AtomicUsize = AtomicUsize::new(0);
static DROPS_WITH_OWN_SUM: AtomicUsize = AtomicUsize::new(0);

struct Owned {
    owner: usize,
    sum: u64,
}

impl Drop for Owned {
    fn drop(&mut self) {
        DROPS.fetch_add(1, SeqCst);
        // INDEX has no destructor: still readable while TLS is torn down.
        if INDEX.with(|x| x.get()) == self.owner {
            DROPS_ON_OWNER.fetch_add(1, SeqCst);
        }
        if self.sum == want_sum(self.owner) {
            DROPS_WITH_OWN_SUM.fetch_add(1, SeqCst);
        }
    }
}

fn want_sum(i: usize) -> u64 {
    (0..ROUNDS).map(|r| (i * 100 + r) as u64).sum()
}

thread_local! {
    static INDEX: Cell<usize> = Cell::new(usize::MAX);
    static COUNTER: Cell<u64> = Cell::new(0);
    static OWNED: RefCell<Option<Owned>> = RefCell::new(None);
}

fn thread_locals() {
    INDEX.with(|x| x.set(1000));
    COUNTER.with(|c| c.set(999));
    let rounds_ok = Arc::new(AtomicUsize::new(0));
    let names_ok = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let mut handles = Vec::new();
    for i in 0..NAMED {
        let (rounds_ok, names_ok, ids) = (rounds_ok.clone(), names_ok.clone(), ids.clone());
        let h = thread::Builder::new()
            .name(format!("worker-{}", i))
            .spawn(move || {
                INDEX.with(|x| x.set(i));
                let fresh = COUNTER.with(|c| c.get()) == 0;
                OWNED.with(|o| *o.borrow_mut() = Some(Owned { owner: i, sum: 0 }));
                let mut ok = fresh;
                let mut name_ok = true;
                for r in 0..ROUNDS {
                    let add = (i * 100 + r) as u64;
                    COUNTER.with(|c| c.set(c.get() + add));
                    OWNED.with(|o| o.borrow_mut().as_mut().unwrap().sum += add);
                    pause_a_little(i, r);
                    let want: u64 = (0..=r).map(|k| (i * 100 + k) as u64).sum();
                    ok &= COUNTER.with(|c| c.get()) == want;
                    name_ok &= thread::current().name() == Some(format!("worker-{}", i).as_str());
                }
                if ok {
                    rounds_ok.fetch_add(1, SeqCst);
                }
                if name_ok {
                    names_ok.fetch_add(1, SeqCst);
                }
                ids.lock().unwrap().insert(thread::current().id());
            })
            .expect("spawn");
        handles.push(h);
    }
    for h in handles {
        h.join().expect("join");
    }
    let drops_before_join_returned = DROPS.load(SeqCst);
    check(rounds_ok.load(SeqCst) == NAMED,
          "32 threads: thread_local! counter starts at 0 and holds their own sums across sleeps");
    check(names_ok.load(SeqCst) == NAMED,
          "32 threads: thread::current().name() is their own after every sleep");
    let ids = ids.lock().unwrap();
    check(ids.len() == NAMED && !ids.contains(&thread::current().id()),
          "32 threads: thread::current().id() distinct, none is main's");
    check(drops_before_join_returned == NAMED, "thread_local! value dropped once per thread, before join returned");
    check(DROPS_ON_OWNER.load(SeqCst) == NAMED, "thread_local! value dropped on its own thread");
    check(DROPS_WITH_OWN_SUM.load(SeqCst) == NAMED, "thread_local! value dropped with its own thread's sum");
    check(INDEX.with(|x| x.get()) == 1000 && COUNTER.with(|c| c.get()) == 999,
          "main's own thread_local! values untouched");
    check(thread::current().name() == Some("main"), "main is still called main");
}

// ---- thread::scope ----

fn scoped() {
    let data: Vec<u64> = (1..=8000).collect();
    let mut sums = [0u64; 8];
    thread::scope(|s| {
        for (k, (chunk, out)) in data.chunks(1000).zip(sums.iter_mut()).enumerate() {
            s.spawn(move || {
                let mut acc = 0;
                for (j, v) in chunk.iter().enumerate() {
                    acc += v;
                    if j % 250 == 0 {
                        pause_a_little(k, j);
                    }
                }
                *out = acc;
            });
        }
    });
    check(sums.iter().sum::<u64>() == 8000 * 8001 / 2, "thread::scope: 8 scoped threads sum a borrowed vector");
}

// ---- Mutex + Condvar ----

fn mutex_condvar() {
    struct Q {
        items: Vec<u64>,
        producers_left: usize,
    }
    let state = Arc::new((Mutex::new(Q { items: Vec::new(), producers_left: 3 }), Condvar::new(), Condvar::new()));
    let mut hs = Vec::new();
    for p in 0..3u64 {
        let st = state.clone();
        hs.push(thread::spawn(move || {
            let (m, not_empty, not_full) = &*st;
            for i in 1..=500u64 {
                let mut q = not_full.wait_while(m.lock().unwrap(), |q| q.items.len() >= 4).unwrap();
                q.items.push(p * 500 + i);
                not_empty.notify_one();
            }
            let mut q = m.lock().unwrap();
            q.producers_left -= 1;
            not_empty.notify_all();
        }));
    }
    let totals = Arc::new(Mutex::new((0u64, 0u64)));
    for _ in 0..2 {
        let (st, totals) = (state.clone(), totals.clone());
        hs.push(thread::spawn(move || {
            let (m, not_empty, not_full) = &*st;
            let mut q = m.lock().unwrap();
            loop {
                q = not_empty.wait_while(q, |q| q.items.is_empty() && q.producers_left > 0).unwrap();
                match q.items.pop() {
                    Some(v) => {
                        let mut t = totals.lock().unwrap();
                        t.0 += 1;
                        t.1 += v;
                        not_full.notify_one();
                    }
                    None => return,
                }
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let t = totals.lock().unwrap();
    check(t.0 == 1500 && t.1 == 1500 * 1501 / 2, "Mutex + Condvar: 1500 items through a queue of 4, checksum");
    let (m, cv, _) = &*state;
    let t0 = Instant::now();
    let (_g, res) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(30)).unwrap();
    check(res.timed_out() && t0.elapsed() >= Duration::from_millis(30), "Condvar::wait_timeout 30 ms times out");
}

// ---- RwLock ----

fn rwlock() {
    let lock = Arc::new(RwLock::new((0u64, 0u64)));
    let torn = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::new();
    for w in 0..2 {
        let lock = lock.clone();
        hs.push(thread::spawn(move || {
            for r in 0..100 {
                let mut g = lock.write().unwrap();
                g.0 += 1;
                pause_a_little(w, r);
                g.1 += 1;
            }
        }));
    }
    for rd in 0..4 {
        let (lock, torn) = (lock.clone(), torn.clone());
        hs.push(thread::spawn(move || {
            for r in 0..150 {
                let g = lock.read().unwrap();
                let a = g.0;
                pause_a_little(rd, r);
                if g.1 != a {
                    torn.fetch_add(1, SeqCst);
                }
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let g = lock.read().unwrap();
    check(torn.load(SeqCst) == 0 && *g == (200, 200), "RwLock: 200 writes alone, no torn reads");
}

// ---- Barrier ----

fn barrier() {
    let b = Arc::new(Barrier::new(6));
    let leaders = Arc::new(Mutex::new(vec![0; 5]));
    let mut hs = Vec::new();
    for i in 0..6 {
        let (b, leaders) = (b.clone(), leaders.clone());
        hs.push(thread::spawn(move || {
            for phase in 0..5 {
                pause_a_little(i, phase);
                if b.wait().is_leader() {
                    leaders.lock().unwrap()[phase] += 1;
                }
                b.wait(); // the leader has counted before anyone goes on
            }
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    check(*leaders.lock().unwrap() == vec![1; 5], "Barrier: 6 threads x 5 phases, one leader per phase");
}

// ---- mpsc ----

fn channels() {
    let (tx, rx) = mpsc::channel::<u64>();
    let mut hs = Vec::new();
    for s in 0..8u64 {
        let tx = tx.clone();
        hs.push(thread::spawn(move || {
            for i in 1..=200u64 {
                tx.send(s * 200 + i).unwrap();
                if i % 50 == 0 {
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }));
    }
    drop(tx);
    let (n, sum) = rx.iter().fold((0u64, 0u64), |(n, s), v| (n + 1, s + v));
    for h in hs {
        h.join().unwrap();
    }
    check(n == 1600 && sum == 1600 * 1601 / 2, "mpsc: 8 senders x 200, all received, checksum");

    let (tx, rx) = mpsc::sync_channel::<u32>(0);
    let h = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        (0..10).map(|_| rx.recv().unwrap()).sum::<u32>()
    });
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    check(h.join().unwrap() == 45, "mpsc::sync_channel(0): 10 rendezvous");
}

// ---- TCP ----

const CLIENTS: usize = 16;
const PAYLOAD: usize = 64 * 1024;

fn fnv1a(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

fn payload(i: usize) -> Vec<u8> {
    let mut x = 0x9e3779b97f4a7c15u64 ^ i as u64;
    (0..PAYLOAD)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn serve(mut s: TcpStream) {
    let mut len = [0u8; 8];
    s.read_exact(&mut len).unwrap();
    let mut data = vec![0u8; u64::from_le_bytes(len) as usize];
    s.read_exact(&mut data).unwrap();
    s.write_all(&fnv1a(&data).to_le_bytes()).unwrap();
}

fn tcp() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().unwrap();
    let acceptor = thread::spawn(move || {
        let mut conns = Vec::new();
        for _ in 0..CLIENTS {
            let (s, _) = listener.accept().expect("accept");
            conns.push(thread::spawn(move || serve(s)));
        }
        for c in conns {
            c.join().unwrap();
        }
    });
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(thread::spawn(move || {
            let data = payload(i);
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(&(data.len() as u64).to_le_bytes()).unwrap();
            for chunk in data.chunks(8192) {
                s.write_all(chunk).unwrap();
            }
            let mut sum = [0u8; 8];
            s.read_exact(&mut sum).unwrap();
            u64::from_le_bytes(sum) == fnv1a(&data)
        }));
    }
    let good = clients.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
    acceptor.join().unwrap();
    check(good == CLIENTS, "TCP: 16 client threads, a server thread per connection, 64 KiB each, checksums match");
}

// ---- panics ----

const PANICKERS: usize = 16;

struct WaitWhileUnwinding {
    barrier: Arc<Barrier>,
    saw_panicking: Arc<AtomicUsize>,
}

impl Drop for WaitWhileUnwinding {
    fn drop(&mut self) {
        self.barrier.wait(); // all panickers and the bystander are here
        thread::sleep(Duration::from_millis(2));
        if thread::panicking() {
            self.saw_panicking.fetch_add(1, SeqCst);
        }
        self.barrier.wait(); // nobody leaves before all have looked
    }
}

fn panics() {
    panic::set_hook(Box::new(|_| {})); // quiet: the payloads are checked
    let barrier = Arc::new(Barrier::new(PANICKERS + 1));
    let saw_panicking = Arc::new(AtomicUsize::new(0));
    let own_payload = Arc::new(AtomicUsize::new(0));
    let mut hs = Vec::new();
    for i in 0..PANICKERS {
        let (barrier, saw_panicking, own_payload) = (barrier.clone(), saw_panicking.clone(), own_payload.clone());
        hs.push(thread::spawn(move || {
            let r = panic::catch_unwind(move || {
                let _w = WaitWhileUnwinding { barrier, saw_panicking };
                panic!("boom {}", i);
            });
            let own = match r {
                Err(p) => p.downcast_ref::<String>().map(|s| s == &format!("boom {}", i)).unwrap_or(false),
                Ok(()) => false,
            };
            if own && !thread::panicking() {
                own_payload.fetch_add(1, SeqCst);
            }
        }));
    }
    let bystander_calm = Arc::new(AtomicBool::new(false));
    {
        let (barrier, calm) = (barrier.clone(), bystander_calm.clone());
        hs.push(thread::spawn(move || {
            barrier.wait();
            thread::sleep(Duration::from_millis(2));
            calm.store(!thread::panicking(), SeqCst);
            barrier.wait();
        }));
    }
    for h in hs {
        h.join().unwrap();
    }
    let escaped = thread::spawn(|| {
        thread::sleep(Duration::from_millis(1));
        panic!("escapes");
    })
    .join();
    let _ = panic::take_hook();
    check(saw_panicking.load(SeqCst) == PANICKERS,
          "16 threads unwinding at once: thread::panicking() true in each");
    check(bystander_calm.load(SeqCst), "a thread not unwinding meanwhile: thread::panicking() false");
    check(own_payload.load(SeqCst) == PANICKERS, "each catch_unwind returns its own payload, then not panicking");
    check(escaped.is_err(), "a panic that escapes its thread: join gives Err");
    check(!thread::panicking(), "main is not panicking");
}

fn sleeping() {
    let t0 = Instant::now();
    thread::sleep(Duration::from_millis(50));
    check(t0.elapsed() >= Duration::from_millis(50), "thread::sleep(50 ms) sleeps at least 50 ms");
}

fn main() {
    thread_locals();
    scoped();
    mutex_condvar();
    rwlock();
    barrier();
    channels();
    tcp();
    panics();
    sleeping();
    let n = FAILURES.load(SeqCst);
    if n == 0 {
        println!("all checks passed");
    } else {
        println!("{} checks FAILED", n);
    }
    std::process::exit(if n == 0 { 0 } else { 1 });
}
