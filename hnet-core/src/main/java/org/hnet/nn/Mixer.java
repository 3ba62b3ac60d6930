package org.hnet.nn;

import org.hnet.tensor.Arena;

/**
 * The sequence mixer of a block: Mamba-2 or causal attention, over packed sequences. Results and
 * temporaries are buffers of the {@link Arena} passed in, valid until it hands them out again.
 */
public sealed interface Mixer permits Mamba2, CausalMHA {
  /** x [T × d] → [T × d]; with a tape (nullable), records what {@link #backward} needs. */
  float[] forward(float[] x, SeqLens seqs, Tape tape, Arena w);

  /**
   * dy [T × d] → dx [T × d] for the forward recorded last on the tape; adds into the parameters'
   * gradients.
   */
  float[] backward(float[] dy, Tape tape, Arena w);

  /** The inference cache of this layer for R rows of at most maxLen positions each. */
  Object allocate(int rows, int maxLen);

  /** Prefill: forward over the packed prompts (sequence i = cache row i), filling {@code cache}. */
  float[] prefill(float[] x, SeqLens seqs, Object cache, Arena w);

  /**
   * One position for each of R rows: x [R × d] → [R × d]; rows with active[r] false keep their
   * cache.
   */
  float[] step(float[] x, Object cache, boolean[] active, Arena w);
}
