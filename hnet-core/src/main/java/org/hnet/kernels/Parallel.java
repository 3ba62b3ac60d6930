package org.hnet.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits a range of independent work items over the worker threads (default: one per core).
 *
 * <p>The range is cut into at most {@link #threads()} contiguous parts, so no two threads write the
 * same output element when the body writes only the items it is given; results are therefore
 * deterministic run to run. Parts are claimed, not assigned: the calling thread and the workers
 * take the next unclaimed part until none is left. A worker that the operating system has not
 * scheduled (another process on its core) therefore never holds up the caller, which then runs the
 * parts itself; with static assignment, a decode step (hundreds of splits) ran 3× slower on 2
 * threads than on 1 while another process used one core. {@link #forRangeStealing} goes further for
 * bodies whose results do not depend on where the range is cut: a thread that has finished its part
 * takes the rest of another's, a chunk at a time. Nested calls are allowed: the caller can always
 * run every part alone.
 */
public final class Parallel {
  private static volatile int threads = Math.max(1, Runtime.getRuntime().availableProcessors());

  private static final AtomicInteger THREAD_ID = new AtomicInteger();

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
   * Runs {@code body} over {@code [0, n)} split in at most {@link #threads()} contiguous parts of
   * at least {@code minGrain} items each.
   */
  public static void forRange(int n, int minGrain, RangeBody body) {
    int parts = parts(n, minGrain);
    if (parts <= 1) {
      if (n > 0) body.run(0, n);
      return;
    }
    run(new Call(body, n, parts, 0));
  }

  /**
   * Like {@link #forRange}, for a body whose results do not depend on how {@code [0, n)} is cut:
   * each thread works through its own part {@code chunk} items at a time from the front, and a
   * thread that has finished its part takes chunks from the back of the others' parts that are not
   * yet claimed. The body therefore sees sub-ranges that depend on timing; it must compute each
   * item the same whatever range it comes in (the decode products: each output row's operations are
   * fixed). For memory-bound work, where two equal halves finish tens of µs apart because the
   * cores' share of the memory bandwidth moves (the decode products: 37 µs apart on average, on
   * parts of 225 µs), the threads then finish within about a chunk of each other.
   */
  public static void forRangeStealing(int n, int minGrain, int chunk, RangeBody body) {
    int parts = parts(n, minGrain);
    if (parts <= 1) {
      if (n > 0) body.run(0, n);
      return;
    }
    run(new Call(body, n, parts, Math.max(1, chunk)));
  }

  private static void run(Call call) {
    for (int p = 1; p < call.parts && Spinner.offer(call); p++) {
      // every idle spinner (up to parts - 1) is asked to help; the caller works either way
    }
    call.work(null);
    Spinner.revoke(call);
    int kind = Profile.current();
    if (kind < 0) {
      call.await();
    } else {
      long t0 = System.nanoTime();
      call.await();
      Profile.waited(kind, System.nanoTime() - t0);
    }
    Throwable failure = call.failure;
    if (failure instanceof RuntimeException re) throw re;
    if (failure instanceof Error err) throw err;
    if (failure != null) throw new RuntimeException(failure);
  }

  /**
   * Whether {@link #forRange}(n, minGrain, ·) would run all of {@code [0, n)} on the calling
   * thread. Kernels on the decode path test it and call their body directly, so that the serial
   * case creates no lambda (a decode step must not allocate, and escape analysis does not always
   * remove a lambda that the parallel path hands to other threads).
   */
  public static boolean serial(int n, int minGrain) {
    return parts(n, minGrain) <= 1;
  }

  /**
   * Whether a spinner still holds an offer it has not taken (tests: none is left after a forRange).
   */
  static boolean offerPending() {
    for (Spinner s : Spinner.ALL) {
      if (s != null && s.task.get() != null) return true;
    }
    return false;
  }

  private static int parts(int n, int minGrain) {
    return Math.min(threads, Math.max(1, n / Math.max(1, minGrain)));
  }

  /**
   * One forRange call: parts claimed in order by whoever is free, a count of finished parts (of
   * finished items when stealing), the first failure.
   */
  private static final class Call {
    private final RangeBody body;
    private final int n;
    private final int parts;
    private final int chunk; // 0: whole parts; else forRangeStealing's chunk
    private final int total; // what done counts up to
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicInteger done = new AtomicInteger();

    /** Stealing: per part, its unclaimed items [lo, hi) as lo << 32 | hi. */
    private final AtomicLongArray left;

    volatile Throwable failure;

    Call(RangeBody body, int n, int parts, int chunk) {
      this.body = body;
      this.n = n;
      this.parts = parts;
      this.chunk = chunk;
      this.total = chunk == 0 ? parts : n;
      if (chunk == 0) {
        left = null;
      } else {
        left = new AtomicLongArray(parts);
        for (int p = 0; p < parts; p++) left.set(p, (long) start(p) << 32 | start(p + 1));
      }
    }

    private int start(int p) {
      return (int) ((long) n * p / parts);
    }

    /**
     * Runs unclaimed parts until none is left. {@code release} (a spinner's busy flag) is cleared
     * before the last part this thread ran is counted, so that the caller, once it sees every part
     * done, finds the spinner idle for its next forRange.
     */
    void work(AtomicBoolean release) {
      if (chunk > 0) {
        steal(release);
        return;
      }
      while (true) {
        int p = next.getAndIncrement();
        if (p >= parts) {
          if (release != null) release.set(false);
          return;
        }
        try {
          body.run(start(p), start(p + 1));
        } catch (Throwable t) {
          if (failure == null) failure = t;
        }
        boolean last = next.get() >= parts;
        if (last && release != null) release.set(false);
        done.incrementAndGet();
        if (last) return;
      }
    }

    /**
     * Stealing: this thread's own part (the next unclaimed part number, if any) from the front,
     * then the other parts from the back, a chunk per claim. The busy flag is cleared once, before
     * the count of a chunk after which nothing is left to claim (or on leaving with nothing run):
     * claims only shrink the ranges, so nothing can be claimed after it.
     */
    private void steal(AtomicBoolean release) {
      boolean busy = release != null;
      int own = next.getAndIncrement();
      if (own < parts) {
        while (true) {
          long s = left.get(own);
          int lo = (int) (s >>> 32), hi = (int) s;
          if (lo >= hi) break;
          int e = Math.min(hi, lo + chunk);
          if (left.compareAndSet(own, s, (long) e << 32 | hi))
            busy = runCounted(lo, e, release, busy);
        }
      }
      int from = own < parts ? own : 0;
      for (int i = 1; i <= parts; i++) {
        int q = (from + i) % parts;
        while (true) {
          long s = left.get(q);
          int lo = (int) (s >>> 32), hi = (int) s;
          if (lo >= hi) break;
          int b = Math.max(lo, hi - chunk);
          if (left.compareAndSet(q, s, (long) lo << 32 | b))
            busy = runCounted(b, hi, release, busy);
        }
      }
      if (busy) release.set(false);
    }

    /** Runs items [s, e) and counts them; returns whether release is still to be cleared. */
    private boolean runCounted(int s, int e, AtomicBoolean release, boolean busy) {
      try {
        body.run(s, e);
      } catch (Throwable t) {
        if (failure == null) failure = t;
      }
      if (busy && nothingLeft()) {
        release.set(false);
        busy = false;
      }
      done.addAndGet(e - s);
      return busy;
    }

    private boolean nothingLeft() {
      for (int p = 0; p < parts; p++) {
        long s = left.get(p);
        if ((int) (s >>> 32) < (int) s) return false;
      }
      return true;
    }

    /**
     * Spins, then sleeps in short naps, until every part is done. The parts of a decode step take
     * tens of µs, and on a virtual machine parking and unparking a thread costs ~50 µs each way
     * (measured: a 10 µs product took 120 µs on 2 threads with Future.get), so the caller spins
     * first.
     */
    void await() {
      for (int i = 0; done.get() != total; i++) {
        if (i < SPINS) Thread.onSpinWait();
        else LockSupport.parkNanos(20_000); // a long part (training): stop burning the core
      }
    }
  }

  private static final int SPINS = 1 << 12;

  /**
   * Long-lived workers that spin for a while after each part before parking, so that the next
   * forRange (a decode step issues hundreds, microseconds apart) finds them awake: handing a part
   * over is then a volatile write instead of an unpark. At most threads() - 1 of them.
   */
  private static final class Spinner extends Thread {
    private static final long SPIN_NANOS = Long.getLong("hnet.parallel.spinMicros", 200) * 1000;
    private static final Spinner[] ALL = new Spinner[64];
    private static int count;

    private final AtomicBoolean busy = new AtomicBoolean(true);

    /**
     * The call offered and not yet taken; taken by the spinner or revoked by the caller, never
     * both.
     */
    private final AtomicReference<Call> task = new AtomicReference<>();

    private volatile boolean parked;

    private Spinner() {
      super("hnet-spinner-" + THREAD_ID.incrementAndGet());
      setDaemon(true);
    }

    /**
     * Asks an idle spinner to work on {@code call}; false when none is idle (and no more may
     * start).
     */
    static boolean offer(Call call) {
      int limit = Math.min(ALL.length, threads - 1);
      for (int i = 0; i < limit; i++) {
        Spinner s = ALL[i] != null ? ALL[i] : start(i);
        if (s.busy.compareAndSet(false, true)) {
          s.task.set(call);
          if (s.parked) LockSupport.unpark(s);
          return true;
        }
      }
      return false;
    }

    /**
     * Withdraws {@code call} from every spinner that has not taken it yet; the caller has run all
     * its parts. Without this, a spinner that was parked (or descheduled) when offered the call
     * stayed busy until it woke up to find nothing left, and the caller's next offers failed: in a
     * decode benchmark 24–33% of the split calls found no idle spinner. The calls that run alone
     * barely changed (7.7–10.4k → 7.5–9.4k of 30.3k): mostly the spinner is still waking up.
     */
    static void revoke(Call call) {
      int limit = Math.min(ALL.length, threads - 1);
      for (int i = 0; i < limit; i++) {
        Spinner s = ALL[i];
        if (s != null && s.task.get() == call && s.task.compareAndSet(call, null))
          s.busy.set(false);
      }
    }

    private static synchronized Spinner start(int i) {
      if (ALL[i] == null) {
        Spinner s = new Spinner(); // starts busy, so only the starter hands it a part
        ALL[i] = s;
        s.start();
        s.busy.set(false);
      }
      return ALL[i];
    }

    @Override
    public void run() {
      long since = System.nanoTime();
      while (true) {
        Call t = task.get();
        for (int i = 0; t == null; t = task.get()) {
          if ((++i & 63) != 0 || System.nanoTime() - since < SPIN_NANOS) {
            Thread.onSpinWait();
          } else { // a volatile write then read on each side: the offerer sees parked or we see
            // task
            parked = true;
            if (task.get() == null) LockSupport.park(this);
            parked = false;
            since = System.nanoTime();
          }
        }
        if (!task.compareAndSet(t, null)) continue; // revoked: its caller has cleared busy
        int kind = Profile.current(); // the kernel the caller is in while this part runs
        long t0 = kind < 0 ? 0 : System.nanoTime();
        t.work(busy); // catches everything and clears busy
        if (kind >= 0) Profile.worked(kind, System.nanoTime() - t0);
        since = System.nanoTime();
      }
    }
  }
}
