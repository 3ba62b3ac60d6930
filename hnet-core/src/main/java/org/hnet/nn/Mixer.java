package org.hnet.nn;

/**
 * The sequence mixer of a block: Mamba-2 or causal attention, over packed sequences. The forms with
 * a {@link Workspace} write their result (and temporaries) into the mixer's buffers of that
 * workspace, valid until the mixer's next use of it; the others allocate.
 */
public sealed interface Mixer permits Mamba2, CausalMHA {
  /** x [T × d] → [T × d]. */
  float[] forward(float[] x, SeqLens seqs);

  /** With a tape (nullable), records what {@link #backward} needs. */
  float[] forward(float[] x, SeqLens seqs, Tape tape, Workspace w);

  /**
   * dy [T × d] → dx [T × d] for the forward recorded last on the tape (in that forward's
   * workspace); adds into the parameters' gradients.
   */
  float[] backward(float[] dy, Tape tape);

  /** The inference cache of this layer for R rows of at most maxLen positions each. */
  Object allocate(int rows, int maxLen);

  /** Prefill: forward over the packed prompts (sequence i = cache row i), filling {@code cache}. */
  float[] prefill(float[] x, SeqLens seqs, Object cache);

  float[] prefill(float[] x, SeqLens seqs, Object cache, Workspace w);

  /**
   * One position for each of R rows: x [R × d] → [R × d]; rows with active[r] false keep their
   * cache.
   */
  float[] step(float[] x, Object cache, boolean[] active);

  float[] step(float[] x, Object cache, boolean[] active, Workspace w);
}
