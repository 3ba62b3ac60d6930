package org.hnet.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits a range of independent work items over the worker threads (default: one per core).
 *
 * <p>Each part is a contiguous sub-range, so no two threads write the same output element when the
 * body writes only the items it is given; results are therefore deterministic run to run. The first
 * part runs on the calling thread. Nested calls are allowed (the pool grows instead of deadlocking).
 */
public final class Parallel {
  private static volatile int threads = Math.max(1, Runtime.getRuntime().availableProcessors());

  private static final AtomicInteger THREAD_ID = new AtomicInteger();
  private static final ExecutorService POOL =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "hnet-worker-" + THREAD_ID.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  private Parallel() {}

  /** The body of a parallel loop: processes items {@code [start, end)}. */
  @FunctionalInterface
  public interface RangeBody {
    void run(int start, int end);
  }

  public static int threads() {
    return threads;
  }

  /** Sets the number of threads used by every kernel (1 = single-threaded). */
  public static void setThreads(int n) {
    if (n < 1) throw new IllegalArgumentException("threads must be >= 1, got " + n);
    threads = n;
  }

  /**
   * Runs {@code body} over {@code [0, n)} split in at most {@link #threads()} contiguous parts of at
   * least {@code minGrain} items each.
   */
  public static void forRange(int n, int minGrain, RangeBody body) {
    int parts = Math.min(threads, Math.max(1, n / Math.max(1, minGrain)));
    if (parts <= 1) {
      if (n > 0) body.run(0, n);
      return;
    }
    Future<?>[] futures = new Future<?>[parts - 1];
    for (int p = 1; p < parts; p++) {
      int start = (int) ((long) n * p / parts);
      int end = (int) ((long) n * (p + 1) / parts);
      futures[p - 1] = POOL.submit(() -> body.run(start, end));
    }
    Throwable failure = null;
    try {
      body.run(0, (int) ((long) n / parts));
    } catch (Throwable t) {
      failure = t;
    }
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (failure == null) failure = e.getCause();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        if (failure == null) failure = e;
      }
    }
    if (failure instanceof RuntimeException re) throw re;
    if (failure instanceof Error err) throw err;
    if (failure != null) throw new RuntimeException(failure);
  }
}
