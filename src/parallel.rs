//! Work spread over threads with its results in the order of the work, so that what is
//! computed never depends on the number of threads or on which finishes first.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How many threads work runs on: `DERIVCHECK_THREADS`, or one per core.
pub fn threads() -> usize {
    std::env::var("DERIVCHECK_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .filter(|t: &usize| *t >= 1)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f` of every item, on up to `threads()` threads that each take the next item when they
/// finish one (items take very different times); in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    map_largest_first(items, |_| 0, f)
}

/// `map`, taking the items in order of their estimated `cost`, largest first, so that a long
/// one does not start last while the other threads have nothing left; in the items' order.
pub fn map_largest_first<T: Sync, R: Send>(items: &[T], cost: impl Fn(&T) -> usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = threads().min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: equal costs keep the items' order.
    order.sort_by_key(|&i| std::cmp::Reverse(cost(&items[i])));
    let next = AtomicUsize::new(0);
    let mut out: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else { return done };
                        done.push((i, f(&items[i])));
                    }
                })
            })
            .collect();
        for handle in handles {
            for (i, result) in handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)) {
                out[i] = Some(result);
            }
        }
    });
    out.into_iter().map(|r| r.expect("every item is mapped once")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_largest_go_first_and_results_keep_the_items_order() {
        let items: Vec<usize> = (0..40).collect();
        let started = std::sync::Mutex::new(Vec::new());
        let out = super::map_largest_first(
            &items,
            |&i| i % 7,
            |&i| {
                started.lock().unwrap().push(i);
                i * 3
            },
        );
        assert_eq!(out, items.iter().map(|i| i * 3).collect::<Vec<_>>());
        if super::threads() > 1 {
            // The first item taken has the largest cost.
            assert_eq!(started.lock().unwrap()[0] % 7, 6);
        }
    }

    #[test]
    fn results_come_in_the_items_order_whatever_the_timing() {
        let items: Vec<u64> = (0..50).collect();
        // Early items take longest, so later ones finish first.
        let out = super::map(&items, |&i| {
            std::thread::sleep(std::time::Duration::from_micros((50 - i) * 40));
            i * i
        });
        assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
    }
}
