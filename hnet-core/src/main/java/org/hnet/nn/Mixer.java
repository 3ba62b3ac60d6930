package org.hnet.nn;

/** The sequence mixer of a block: Mamba-2 or causal attention, over packed sequences. */
public sealed interface Mixer permits Mamba2, CausalMHA {
  /** x [T × d] → [T × d]. */
  float[] forward(float[] x, SeqLens seqs);

  /** dy [T × d] → dx [T × d] for the last training forward; adds into the parameters' gradients. */
  float[] backward(float[] dy);
}
