package org.hnet.nn;

import org.hnet.kernels.Dechunk;
import org.hnet.tensor.Arena;

/**
 * Dechunking (paper eq. 5–6): an EMA over the chunk sequence, z̄_j = P_j z_j + (1 − P_j) z̄_{j−1}
 * with P_j the boundary probability of chunk j clamped to [1e-4, 1 − 1e-4], restarted (z̄ = 0) at
 * every sequence; every position then takes the value of the chunk it lies in.
 *
 * <p>The loops are the kernel {@link Dechunk}'s; this layer gives them packed sequences and arena
 * buffers.
 */
public final class DeChunkLayer {
  static final float P_MIN = Dechunk.P_MIN;
  static final float P_MAX = Dechunk.P_MAX;

  private DeChunkLayer() {}

  /**
   * @param z inner output [Tc × d] over the chunks
   * @param prob boundary probability [T] of the outer positions
   * @param mask boundary mask [T]
   * @return [T × d]
   */
  public static float[] forward(float[] z, float[] prob, boolean[] mask, SeqLens seqs, int d) {
    return forward(new float[seqs.total() * d], new float[d], z, prob, mask, seqs, d);
  }

  /** {@link #forward} into out [≥ T × d] with the scratch ema [≥ d]; returns out. */
  static float[] forward(
      float[] out, float[] ema, float[] z, float[] prob, boolean[] mask, SeqLens seqs, int d) {
    Dechunk.forward(out, ema, z, prob, mask, seqs.cu(), seqs.count(), d);
    return out;
  }

  /**
   * One position of R rows (the reference's DeChunkLayer.step): a row at a boundary updates its EMA
   * with the inner output z [R × d] (P clamped as in the forward); any other active row repeats its
   * last value. {@code last} [R × d] is the decode state, updated in place; returns [R × d].
   */
  public static float[] step(
      float[] z, float[] prob, boolean[] mask, boolean[] active, float[] last, int d) {
    return step(new float[active.length * d], z, prob, mask, active, last, d);
  }

  /** {@link #step} into out [≥ R × d] (zero for inactive rows); returns out. */
  static float[] step(
      float[] out, float[] z, float[] prob, boolean[] mask, boolean[] active, float[] last, int d) {
    Dechunk.step(out, z, prob, mask, active, last, d);
    return out;
  }

  /**
   * Backward of {@link #forward}. With G_j = Σ_{t in chunk j} ∂L/∂y_t plus what flows back from
   * chunk j+1: ∂z_j = P_j G_j, ∂P_j = G_j·(z_j − z̄_{j−1}), carried back (1 − P_j) G_j. The clamp
   * of P passes the gradient only inside [1e-4, 1 − 1e-4] (so never at a forced p = 1).
   *
   * @param dy ∂L/∂y [T × d]
   * @param dz receives ∂L/∂z [Tc × d] (overwritten)
   * @param dprob receives ∂L/∂p [T] added at boundary positions
   */
  public static void backward(
      float[] dy,
      float[] z,
      float[] prob,
      boolean[] mask,
      SeqLens seqs,
      int d,
      float[] dz,
      float[] dprob) {
    backward(dy, z, prob, mask, seqs, d, dz, dprob, Arena.freshOutputs());
  }

  /** {@link #backward} with its temporaries from w. */
  static void backward(
      float[] dy,
      float[] z,
      float[] prob,
      boolean[] mask,
      SeqLens seqs,
      int d,
      float[] dz,
      float[] dprob,
      Arena w) {
    int T = seqs.total(), n = seqs.count(), Tc = Dechunk.chunks(mask, T);
    Dechunk.backward(
        dz,
        dprob,
        dy,
        z,
        prob,
        mask,
        seqs.cu(),
        n,
        d,
        w.ints(n + 1),
        w.ints(Tc),
        w.floats((2 * Tc + 1) * d));
  }
}
