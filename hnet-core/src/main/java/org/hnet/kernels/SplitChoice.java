package org.hnet.kernels;

/**
 * Whether a kernel splits its work over the threads, decided from its own measured times: for a
 * kernel whose split sometimes loses. Only for kernels whose results are bitwise the same either
 * way, so the choice changes the time a call takes and nothing else.
 *
 * <p>Why: on the 2-core development VM the attention backward, split over both threads inside a
 * training step, ran 3–5× slower than on one thread in most runs of one evening and 1.6–1.8× faster
 * in every run of another day; the cause is not found (the same call in a harness always scales;
 * see docs/performance-log.md). A fixed choice loses one way or the other; measuring costs two
 * clock reads per call.
 *
 * <p>How: it keeps the last {@link #KEPT} times per unit of work of each mode. Until each mode has
 * that many it alternates; then it takes the mode whose best kept time is lower and, every {@link
 * #PROBE} calls, runs the other once so that a change of the machine's state is noticed. The best
 * of the last few, not their median: the first calls of a run take many times longer while the JIT
 * compiles, and with the median such a mode kept its warm-up times until two probes had replaced
 * them (measured: the split attention forward stayed unused for whole 5-step benchmarks). A slow
 * outlier (a collection) never wins; a mode that became slower is seen within {@link #KEPT} calls
 * once chosen. {@code -D<property>=true|false} fixes the mode (as do tests, through {@link
 * #force}).
 */
final class SplitChoice {
  static final int KEPT = 3;
  static final int PROBE = 16;

  /** null: decided by the measurements; true/false: always split / never split. */
  Boolean force;

  private final long[][] perWork =
      new long[2][KEPT]; // [serial, split][last KEPT], picoseconds per unit
  private final int[] count = new int[2];
  private int calls;

  SplitChoice(String property) {
    String v = System.getProperty(property);
    force = v == null ? null : Boolean.valueOf(v);
  }

  /** Whether the next call should split (when there is more than one thread and enough work). */
  synchronized boolean split() {
    if (force != null) return force;
    calls++;
    if (count[1] < KEPT || count[0] < KEPT) return count[1] <= count[0];
    boolean splitFaster = best(1) <= best(0);
    return calls % PROBE == 0 ? !splitFaster : splitFaster;
  }

  /** Records a call of {@code work} units that took {@code nanos}, split or not. */
  synchronized void record(boolean split, long nanos, long work) {
    if (force != null || work <= 0) return;
    int m = split ? 1 : 0;
    perWork[m][count[m]++ % KEPT] = Math.max(1, nanos * 1000 / work);
  }

  private long best(int m) {
    long b = Long.MAX_VALUE;
    for (long t : perWork[m]) b = Math.min(b, t);
    return b;
  }
}
