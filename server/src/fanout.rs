//! Spreading one session's sends over several threads.
//!
//! A send is a copy into the kernel, and on loopback most of a message's cost: a
//! session of 1,500 members sending 30 times a second would keep one core busy with
//! sends alone. A big session's members are therefore split into one chunk per thread:
//! the tick worker sends the first chunk itself while the pool's threads send the
//! others, every one of them writing the same encoded frame (nothing is copied per
//! socket but into the kernel). Small sessions are sent by their worker alone: waking a
//! thread costs more than a hundred sends.

use std::ops::AddAssign;

/// Members below which a session's sends stay on its worker.
pub const PARALLEL_MIN_MEMBERS: usize = 256;

/// Chunks at most, whatever the pool's size.
const MAX_CHUNKS: usize = 16;

/// Threads that help tick workers send big sessions' frames.
pub struct FanoutPool {
    /// `None` with a single thread: every send happens on the worker.
    pool: Option<rayon::ThreadPool>,
    threads: usize,
}

impl std::fmt::Debug for FanoutPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanoutPool")
            .field("threads", &self.threads)
            .finish()
    }
}

impl FanoutPool {
    /// A pool that splits big sessions `threads` ways (the calling worker included).
    pub fn new(threads: usize) -> std::io::Result<FanoutPool> {
        let threads = threads.clamp(1, MAX_CHUNKS);
        let pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads - 1)
                .thread_name(|i| format!("arena-fanout-{i}"))
                .build()
                .map_err(std::io::Error::other)?;
            Some(pool)
        } else {
            None
        };
        Ok(FanoutPool { pool, threads })
    }

    /// A pool that never leaves the calling thread, for tests and benchmarks.
    pub fn inline() -> FanoutPool {
        FanoutPool {
            pool: None,
            threads: 1,
        }
    }

    /// Runs `send` on every item, split over the pool when there are many, and sums
    /// what each call returned.
    pub fn for_each<T, R>(&self, items: &mut [T], send: impl Fn(&mut T) -> R + Sync) -> R
    where
        T: Send,
        R: Default + AddAssign + Send,
    {
        self.for_each_chunk(items, |chunk| {
            let mut total = R::default();
            for item in chunk {
                total += send(item);
            }
            total
        })
    }

    /// Threads a split may use, the calling one included.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `work` on every item, each on a thread of its own (the first on the
    /// calling thread) when there are several: for a few big shares of work that are
    /// already split, one per thread ([`FanoutPool::threads`]). More items than threads
    /// queue for them.
    pub fn for_each_apart<T: Send>(&self, items: &mut [T], work: impl Fn(&mut T) + Sync) {
        let Some(pool) = &self.pool else {
            items.iter_mut().for_each(work);
            return;
        };
        let Some((mine, others)) = items.split_first_mut() else {
            return;
        };
        pool.in_place_scope(|scope| {
            for item in others {
                let work = &work;
                scope.spawn(move |_| work(item));
            }
            work(mine);
        });
    }

    /// Runs `send` on chunks that together hold every item once (one chunk per
    /// thread, or all of them in one when there are few), and sums what each call
    /// returned: for sends that go in an order of their own within each thread's share.
    pub fn for_each_chunk<T, R>(&self, items: &mut [T], send: impl Fn(&mut [T]) -> R + Sync) -> R
    where
        T: Send,
        R: Default + AddAssign + Send,
    {
        let Some(pool) = &self.pool else {
            return send(items);
        };
        if items.len() < PARALLEL_MIN_MEMBERS {
            return send(items);
        }
        let size = items.len().div_ceil(self.threads);
        let mut chunks = items.chunks_mut(size);
        let Some(mine) = chunks.next() else {
            return R::default();
        };
        let mut totals: [R; MAX_CHUNKS] = std::array::from_fn(|_| R::default());
        let (first, others) = totals.split_at_mut(1);
        pool.in_place_scope(|scope| {
            for (chunk, total) in chunks.zip(others.iter_mut()) {
                let send = &send;
                scope.spawn(move |_| *total = send(chunk));
            }
            first[0] = send(mine);
        });
        let mut sum = R::default();
        for total in totals {
            sum += total;
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_visited_once_and_the_results_are_summed() {
        let pool = FanoutPool::new(3).expect("a pool starts");
        for len in [0, 5, PARALLEL_MIN_MEMBERS, 1_000] {
            let mut items = vec![0u32; len];
            let visited = pool.for_each(&mut items, |item| {
                *item += 1;
                1usize
            });
            assert_eq!(visited, len);
            assert!(items.iter().all(|&n| n == 1), "each item exactly once");
        }
    }

    #[test]
    fn items_apart_are_each_worked_once_on_threads_of_their_own() {
        let pool = FanoutPool::new(2).expect("a pool starts");
        assert_eq!(pool.threads(), 2);
        for len in [0, 1, 2, 5] {
            let mut items: Vec<(u32, Option<std::thread::ThreadId>)> = vec![(0, None); len];
            pool.for_each_apart(&mut items, |(count, thread)| {
                *count += 1;
                *thread = Some(std::thread::current().id());
            });
            assert!(items.iter().all(|&(n, _)| n == 1), "each item exactly once");
            if len >= 2 {
                assert_eq!(
                    items[0].1,
                    Some(std::thread::current().id()),
                    "the first here"
                );
                assert_ne!(items[1].1, items[0].1, "the second on the pool");
            }
        }
        let mut inline = [0u32; 3];
        FanoutPool::inline().for_each_apart(&mut inline, |n| *n += 1);
        assert_eq!(inline, [1, 1, 1]);
    }

    #[test]
    fn chunks_hold_every_item_once_one_per_thread() {
        let pool = FanoutPool::new(2).expect("a pool starts");
        for (len, chunks) in [(10, 1), (1_000, 2)] {
            let mut items = vec![0u32; len];
            let calls = pool.for_each_chunk(&mut items, |chunk| {
                chunk.iter_mut().for_each(|item| *item += 1);
                1usize
            });
            assert_eq!(calls, chunks, "{len} items");
            assert!(items.iter().all(|&n| n == 1), "each item exactly once");
        }
    }

    #[test]
    fn a_big_slice_is_shared_between_threads() {
        let pool = FanoutPool::new(2).expect("a pool starts");
        let caller = std::thread::current().id();
        let mut items: Vec<Option<std::thread::ThreadId>> = vec![None; 1_000];
        pool.for_each(&mut items, |item| {
            *item = Some(std::thread::current().id());
            0usize
        });
        let on_caller = items.iter().filter(|t| **t == Some(caller)).count();
        assert_eq!(on_caller, 500, "the worker sends its own half");
        assert!(items.iter().all(Option::is_some));
    }
}
