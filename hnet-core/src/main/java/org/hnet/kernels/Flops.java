package org.hnet.kernels;

import java.util.concurrent.atomic.LongAdder;

/**
 * A count of the floating-point work done by the kernels (2 per multiply-add of every matrix
 * product, scan and attention), so benchmarks can report achieved GFLOP/s of model work. One add
 * per kernel call: negligible.
 */
public final class Flops {
  private static final LongAdder COUNT = new LongAdder();

  private Flops() {}

  public static void add(long flops) {
    COUNT.add(flops);
  }

  public static void reset() {
    COUNT.reset();
  }

  /** The count since the last reset or take. */
  static long current() {
    return COUNT.sum();
  }

  /** The count since the last reset or take, and resets it. */
  public static long take() {
    return COUNT.sumThenReset();
  }
}
