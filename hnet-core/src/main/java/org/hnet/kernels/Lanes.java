package org.hnet.kernels;

import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;
import org.hnet.tensor.Arena;

/**
 * A thread's buffer for the lanes of one vector (lane sums in a fixed order), held by its arena
 * ({@link Arena#holder}): as wide as the widest species, read only up to a kernel's own width.
 */
final class Lanes {
  private static final VectorSpecies<Float> S = MatmulGemm.S;
  private static final int VL = MatmulGemm.VL;

  // Lane sums of several accumulators at once, at 16 lanes (the compact-weight kernels): a pair
  // (p, q) becomes p.blend(q, Hh) + q.blend(p, Hh).rearrange(Xh), whose lanes with bit h clear hold
  // p_i + p_{i+h} and the others q_{i-h} + q_i; an accumulator without a partner becomes p +
  // p.rearrange(Xh). Levels h = 8, 4, 2, 1 add the lanes in MatmulDecode.laneSum's order (float
  // addition commutes exactly), leaving each accumulator's sum in one lane of one vector.

  /** Lanes whose index has bit h set (VL = 16; null otherwise). */
  static final VectorMask<Float> H8 = VL == 16 ? VectorMask.fromLong(S, 0xFF00L) : null,
      H4 = VL == 16 ? VectorMask.fromLong(S, 0xF0F0L) : null,
      H2 = VL == 16 ? VectorMask.fromLong(S, 0xCCCCL) : null,
      H1 = VL == 16 ? VectorMask.fromLong(S, 0xAAAAL) : null;

  /** Lane i takes lane i ^ h (VL = 16; null otherwise). */
  static final VectorShuffle<Float> X8 = VL == 16 ? VectorShuffle.fromOp(S, i -> i ^ 8) : null,
      X4 = VL == 16 ? VectorShuffle.fromOp(S, i -> i ^ 4) : null,
      X2 = VL == 16 ? VectorShuffle.fromOp(S, i -> i ^ 2) : null,
      X1 = VL == 16 ? VectorShuffle.fromOp(S, i -> i ^ 1) : null;

  private final float[] lanes = new float[64];

  /** The calling thread's lane buffer (64 floats; a kernel uses its vector width of them). */
  static float[] local() {
    return Arena.local().holder(Lanes.class, Lanes::new).lanes;
  }
}
