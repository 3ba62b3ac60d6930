package org.hnet.kernels;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Wall-clock time per kernel family, for {@code hnet bench --profile}: where a training step, a
 * prefill or a decode step spends its time, and how busy the worker threads are meanwhile.
 *
 * <p>Off by default; then each public kernel entry pays one volatile read. When on, only calls made
 * by the thread that turned it on are timed (the model's thread; the workers only run parts of
 * those calls), and only the outermost kernel call (a kernel that calls another is timed once, as
 * itself). Per kind it records: calls, wall time on the owner, floating-point work (the {@link
 * Flops} counted during the call), the time the owner waited for workers to finish their parts, and
 * the time the workers spent running parts. The owner's busy share of a kernel is wall − wait; with
 * the workers' time this gives how many threads the kernel kept busy.
 */
public final class Profile {
  /** Kernel families, in the order of a report. */
  public enum Kind {
    MATMUL("matmul x·Wᵀ"),
    MATMUL_DX("matmul dx = dy·W"),
    MATMUL_DW("matmul dW = dyᵀ·x"),
    MATVEC("matvec (decode)"),
    SSD("SSD scan"),
    SSD_BACKWARD("SSD scan backward"),
    SSD_STEP("SSD step"),
    CONV("conv1d + SiLU"),
    CONV_BACKWARD("conv1d backward"),
    CONV_STEP("conv1d step"),
    ATTENTION("attention"),
    ATTENTION_BACKWARD("attention backward"),
    ATTENTION_STEP("attention step + KV cache"),
    NORM("RMSNorm, gated RMSNorm"),
    NORM_BACKWARD("RMSNorm backward"),
    SWIGLU("SwiGLU"),
    SWIGLU_BACKWARD("SwiGLU backward"),
    ADD("residual add"),
    CROSS_ENTROPY("softmax cross-entropy");

    public final String label;

    Kind(String label) {
      this.label = label;
    }
  }

  private static final int K = Kind.values().length;

  /** start() tokens that record nothing: profiling off or another thread, or a nested call. */
  private static final long OFF = Long.MIN_VALUE, NESTED = Long.MIN_VALUE + 1;

  private static volatile Thread owner; // null: off
  private static int depth; // owner's nesting depth of kernel calls
  private static long startFlops;
  private static volatile int current = -1; // the kind the owner is in (for the workers' time)
  private static final long[] calls = new long[K], nanos = new long[K], flops = new long[K];
  private static final AtomicLongArray waitNanos = new AtomicLongArray(K),
      workerNanos = new AtomicLongArray(K);

  private Profile() {}

  /** Starts (or resumes) recording the calling thread's kernel calls. */
  public static synchronized void start() {
    depth = 0;
    current = -1;
    owner = Thread.currentThread();
  }

  /** Stops recording. */
  public static synchronized void stop() {
    owner = null;
  }

  /** Clears the records. */
  public static synchronized void reset() {
    java.util.Arrays.fill(calls, 0);
    java.util.Arrays.fill(nanos, 0);
    java.util.Arrays.fill(flops, 0);
    for (int i = 0; i < K; i++) {
      waitNanos.set(i, 0);
      workerNanos.set(i, 0);
    }
    depth = 0;
  }

  /**
   * At a kernel entry: a token for {@link #end}. Marks the owner as inside a kernel of this kind,
   * to which the workers' time and the owner's waits are attributed.
   */
  static long begin(Kind kind) {
    if (owner != Thread.currentThread()) return OFF;
    if (depth++ > 0) return NESTED;
    startFlops = Flops.current();
    current = kind.ordinal();
    return System.nanoTime();
  }

  /** At a kernel's exit (every exit: call it in a finally). */
  static void end(Kind kind, long token) {
    if (token == OFF) return;
    depth--;
    if (token == NESTED) return;
    int k = kind.ordinal();
    calls[k]++;
    nanos[k] += System.nanoTime() - token;
    flops[k] += Flops.current() - startFlops;
    current = -1;
  }

  /** The kind the owner is in now, or −1 (also when profiling is off): for Parallel's timing. */
  static int current() {
    return owner == null ? -1 : current;
  }

  /** Time the owner spent waiting for workers in a kernel of kind k (from {@link #current}). */
  static void waited(int k, long ns) {
    if (k >= 0 && owner == Thread.currentThread()) waitNanos.addAndGet(k, ns);
  }

  /** Time a worker spent running parts of a kernel of kind k (from {@link #current}). */
  static void worked(int k, long ns) {
    if (k >= 0) workerNanos.addAndGet(k, ns);
  }

  /** One kind's records. Times in nanoseconds. */
  public record Entry(
      Kind kind, long calls, long nanos, long flops, long waitNanos, long workerNanos) {
    /** Thread-seconds of work per second of wall time: 1 on one thread, up to the thread count. */
    public double threadsBusy() {
      return nanos == 0 ? 0 : (nanos - waitNanos + workerNanos) / (double) nanos;
    }
  }

  /** The records of every kind that was called, in {@link Kind} order. */
  public static synchronized java.util.List<Entry> entries() {
    java.util.List<Entry> out = new java.util.ArrayList<>();
    for (Kind kind : Kind.values()) {
      int k = kind.ordinal();
      if (calls[k] > 0) {
        out.add(
            new Entry(kind, calls[k], nanos[k], flops[k], waitNanos.get(k), workerNanos.get(k)));
      }
    }
    return out;
  }
}
