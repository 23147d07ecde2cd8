//! Program a kube-proxy style node (issue 6: 10,000 load balancers × 10 backends by default)
//! into the in-process model through `HnsBackend`, and print the time it took and the heap the
//! state holds, measured with a counting global allocator.
//!
//! `cargo run -p hnsim-model --release --example scale [-- LBS BACKENDS]`

use hnsim_model::state::workload::KubeProxyWorkload;
use hnsim_model::state::{Hns, HostSettings};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::time::{Duration, Instant};

/// Bytes currently allocated, and the peak, while `COUNTING` is on (off for the timed run, so
/// that the counting does not slow it).
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static IN_USE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let p = System.alloc(l);
        if !p.is_null() && COUNTING.load(Ordering::Relaxed) {
            let now = IN_USE.fetch_add(l.size() as isize, Ordering::Relaxed) + l.size() as isize;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        if COUNTING.load(Ordering::Relaxed) {
            IN_USE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let q = System.realloc(p, l, new);
        if !q.is_null() && COUNTING.load(Ordering::Relaxed) {
            if new as isize >= l.size() as isize {
                let now = IN_USE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed)
                    + new as isize
                    - l.size() as isize;
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(l.size() as isize - new as isize, Ordering::Relaxed);
            }
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mib(b: isize) -> f64 {
    b as f64 / (1024.0 * 1024.0)
}

/// CPU time this (single-threaded) process has run, from Linux's /proc/self/schedstat; the
/// machine is shared, so wall time alone overstates the cost when others are busy.
fn cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn fmt_cpu(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.3} s CPU", d.as_secs_f64()))
        .unwrap_or_else(|| "CPU time n/a".into())
}

fn fail(what: &str, e: hnsim_model::HcnError) -> ! {
    eprintln!("{what} failed: {e}");
    std::process::exit(1);
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let lbs = args.first().copied().unwrap_or(10_000).max(1);
    let backends = args.get(1).copied().unwrap_or(10);
    let w = KubeProxyWorkload::new(lbs, backends);
    let calls = w.endpoint_count() + lbs + 2;

    // 1. The timed run, allocator counting off.
    let mut hns = Hns::new(HostSettings::default(), 1);
    let (t, c) = (Instant::now(), cpu_time());
    let p = w.program(&mut hns).unwrap_or_else(|e| fail("programming", e));
    let program = t.elapsed();
    let program_cpu = cpu_time().zip(c).map(|(b, a)| b - a);
    let probes_program = hns.index_probes();
    let rounds = 1000usize;
    let (t, c) = (Instant::now(), cpu_time());
    for i in 0..rounds {
        w.update_lb(&mut hns, &p, (i * 37) % lbs, 9000 + (i % 2) as u16)
            .unwrap_or_else(|e| fail("update", e));
    }
    let update = t.elapsed() / rounds as u32;
    let update_cpu = cpu_time().zip(c).map(|(b, a)| (b - a) / rounds as u32);
    println!(
        "workload: {lbs} load balancers x {backends} backends ({} endpoints, 1 in {} local), {}",
        w.endpoint_count(),
        w.local_every,
        if w.overlay { "Overlay" } else { "L2Bridge" }
    );
    println!(
        "program through HnsBackend: {:.3} s wall, {} ({:.0} calls/s, {:.1} us/call; {:.1} index probes/call)",
        program.as_secs_f64(),
        fmt_cpu(program_cpu),
        calls as f64 / program.as_secs_f64(),
        program.as_secs_f64() * 1e6 / calls as f64,
        probes_program as f64 / calls as f64
    );
    println!(
        "one LB update (modify): {:.1} us wall, {:.1} us CPU (mean of {rounds})",
        update.as_secs_f64() * 1e6,
        update_cpu.map_or(f64::NAN, |d| d.as_secs_f64() * 1e6)
    );
    drop(p);
    drop(hns);

    // 2. The same state again, counting every byte allocated.
    COUNTING.store(true, Ordering::SeqCst);
    let mut hns = Hns::new(HostSettings::default(), 1);
    let p = w.program(&mut hns).unwrap_or_else(|e| fail("programming", e));
    let peak = PEAK.load(Ordering::Relaxed);
    drop(p);
    let state = IN_USE.load(Ordering::Relaxed);
    println!(
        "heap: state {:.1} MiB ({} bytes per endpoint, LBs included); peak while programming {:.1} MiB",
        mib(state),
        state / w.endpoint_count().max(1) as isize,
        mib(peak)
    );
    println!(
        "objects: {} networks, {} endpoints, {} load balancers",
        hns.networks.len(),
        hns.endpoints.len(),
        hns.load_balancers.len()
    );
}
