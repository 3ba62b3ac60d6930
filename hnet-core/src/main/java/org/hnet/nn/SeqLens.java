package org.hnet.nn;

import java.util.Arrays;

/**
 * Packed sequences: {@code cu[i]} is the first position of sequence i in the flat [T × d] buffers,
 * {@code cu[n] = T}. Every sequence restarts the convolution and scan state, the attention, the
 * rotary positions, the routing (p = 1 at its start) and the dechunk EMA.
 */
public record SeqLens(int[] cu) {
  public SeqLens {
    if (cu.length < 1 || cu[0] != 0)
      throw new IllegalArgumentException("cu_seqlens must start at 0: " + Arrays.toString(cu));
    for (int i = 1; i < cu.length; i++) {
      if (cu[i] < cu[i - 1])
        throw new IllegalArgumentException("cu_seqlens must not decrease: " + Arrays.toString(cu));
    }
  }

  /** B rows of L positions each: cu = [0, L, 2L, ..., BL]. */
  public static SeqLens uniform(int B, int L) {
    int[] cu = new int[B + 1];
    for (int i = 0; i <= B; i++) cu[i] = i * L;
    return new SeqLens(cu);
  }

  public int count() {
    return cu.length - 1;
  }

  public int total() {
    return cu[cu.length - 1];
  }

  public int start(int i) {
    return cu[i];
  }

  public int length(int i) {
    return cu[i + 1] - cu[i];
  }
}
