//! Wall-clock time per layer, collected only while `encodec bench --profile` asks for it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static ENABLED: AtomicBool = AtomicBool::new(false);
/// (layer, total time, calls), in first-seen order.
static TOTALS: Mutex<Vec<(String, Duration, u64)>> = Mutex::new(Vec::new());

/// Starts (or stops) collecting; starting clears what was collected before.
pub fn enable(on: bool) {
    if on {
        TOTALS.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    ENABLED.store(on, Ordering::Relaxed);
}

/// The time spent in each layer since [`enable`]: `(layer, seconds, calls)`.
pub fn totals() -> Vec<(String, f64, u64)> {
    let totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    totals.iter().map(|(name, time, calls)| (name.clone(), time.as_secs_f64(), *calls)).collect()
}

/// Runs `f`, adding its time to `name()` when collecting (one relaxed load when not).
pub(crate) fn time<T>(name: impl FnOnce() -> String, f: impl FnOnce() -> T) -> T {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    let name = name();
    let mut totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    match totals.iter_mut().find(|(n, ..)| *n == name) {
        Some(entry) => {
            entry.1 += elapsed;
            entry.2 += 1;
        }
        None => totals.push((name, elapsed, 1)),
    }
    out
}
