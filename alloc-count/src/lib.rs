//! A counting global allocator for the allocation tests of `dataplane` and `director` (the
//! "no allocation per message" checks, docs/performance.md). It forwards everything to the
//! system allocator and counts allocations and reallocations two ways:
//!
//! - per thread, so other test threads cannot disturb a count ([`allocations_in`]);
//! - over every thread that has called [`count_this_thread`] (engine worker threads mark
//!   themselves from inside the handler), in one process-wide sum ([`counted_threads_total`]).
//!
//! A test binary installs it with
//! `#[global_allocator] static GLOBAL: alloc_count::Counting = alloc_count::Counting;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The allocator.
#[derive(Debug)]
pub struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Allocations on the threads marked by [`count_this_thread`], since they were marked.
static COUNTED_TOTAL: AtomicU64 = AtomicU64::new(0);

fn count() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    if COUNTED.try_with(Cell::get).unwrap_or(false) {
        COUNTED_TOTAL.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; counting touches only
// const-initialised thread-locals and an atomic, none of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// How many allocations `f` made on this thread (0 unless [`Counting`] is the global
/// allocator).
pub fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

/// Adds this thread's allocations from now on to [`counted_threads_total`].
pub fn count_this_thread() {
    COUNTED.with(|c| c.set(true));
}

/// Allocations on every thread marked by [`count_this_thread`] since it was marked.
pub fn counted_threads_total() -> u64 {
    COUNTED_TOTAL.load(Ordering::Relaxed)
}
