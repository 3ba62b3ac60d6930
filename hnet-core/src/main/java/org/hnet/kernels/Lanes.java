package org.hnet.kernels;

import org.hnet.tensor.Arena;

/**
 * A thread's buffer for the lanes of one vector (lane sums in a fixed order), held by its arena
 * ({@link Arena#holder}): as wide as the widest species, read only up to a kernel's own width.
 */
final class Lanes {
  private final float[] lanes = new float[64];

  /** The calling thread's lane buffer (64 floats; a kernel uses its vector width of them). */
  static float[] local() {
    return Arena.local().holder(Lanes.class, Lanes::new).lanes;
  }
}
