package org.hnet.nn;

/**
 * Dechunking (paper eq. 5–6): an EMA over the chunk sequence, z̄_j = P_j z_j + (1 − P_j) z̄_{j−1}
 * with P_j the boundary probability of chunk j clamped to [1e-4, 1 − 1e-4], restarted (z̄ = 0) at
 * every sequence; every position then takes the value of the chunk it lies in.
 *
 * <p>Float32 throughout: the reference evaluates this EMA with its Mamba-2 kernel in bfloat16 by
 * default; the golden data (and we) use float32, the direct recurrence.
 */
public final class DeChunkLayer {
  static final float P_MIN = 1e-4f;
  static final float P_MAX = 1f - 1e-4f;

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
    int j = -1; // global chunk index of the current position
    for (int i = 0; i < seqs.count(); i++) {
      java.util.Arrays.fill(ema, 0, d, 0f);
      for (int t = seqs.start(i); t < seqs.start(i) + seqs.length(i); t++) {
        if (mask[t]) {
          j++;
          float pj = Math.min(P_MAX, Math.max(P_MIN, prob[t]));
          float keep = 1f - pj;
          int zo = j * d;
          for (int c = 0; c < d; c++) ema[c] = pj * z[zo + c] + keep * ema[c];
        }
        System.arraycopy(ema, 0, out, t * d, d);
      }
    }
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
    int R = active.length;
    for (int r = 0; r < R; r++) {
      if (!active[r]) {
        java.util.Arrays.fill(out, r * d, (r + 1) * d, 0f);
        continue;
      }
      if (mask[r]) {
        float pj = Math.min(P_MAX, Math.max(P_MIN, prob[r]));
        float keep = 1f - pj;
        for (int c = 0; c < d; c++) last[r * d + c] = pj * z[r * d + c] + keep * last[r * d + c];
      }
      System.arraycopy(last, r * d, out, r * d, d);
    }
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
    backward(dy, z, prob, mask, seqs, d, dz, dprob, Workspace.TRANSIENT, 0);
  }

  /**
   * Workspace slots {@link #backward(float[], float[], float[], boolean[], SeqLens, int, float[],
   * float[], Workspace, int)} uses from its first.
   */
  static final int SLOTS = 5;

  /** {@link #backward} with its temporaries in {@link #SLOTS} slots of w from {@code slot}. */
  static void backward(
      float[] dy,
      float[] z,
      float[] prob,
      boolean[] mask,
      SeqLens seqs,
      int d,
      float[] dz,
      float[] dprob,
      Workspace w,
      int slot) {
    int T = seqs.total(), n = seqs.count();
    int[] chunkCu = w.ints(slot, n + 1); // sequence i owns chunks [chunkCu[i], chunkCu[i+1])
    chunkCu[0] = 0;
    for (int i = 0; i < n; i++) {
      int count = chunkCu[i];
      for (int t = seqs.start(i); t < seqs.start(i) + seqs.length(i); t++) if (mask[t]) count++;
      chunkCu[i + 1] = count;
    }
    int Tc = chunkCu[n];
    int[] pos = w.ints(slot + 1, Tc); // the position of every boundary
    float[] g = w.zeros(slot + 2, Tc * d); // G_j: Σ ∂L/∂y over the positions of chunk j
    int j = -1;
    for (int t = 0; t < T; t++) {
      if (mask[t]) pos[++j] = t;
      for (int c = 0; c < d; c++) g[j * d + c] += dy[t * d + c];
    }
    float[] ema =
        emas(
            w.floats(slot + 3, Tc * d),
            z,
            prob,
            seqs,
            d,
            chunkCu,
            pos); // z̄_j [Tc × d], recomputed
    float[] carry = w.floats(slot + 4, d);
    for (int i = 0; i < n; i++) {
      java.util.Arrays.fill(carry, 0, d, 0f);
      for (int jj = chunkCu[i + 1] - 1; jj >= chunkCu[i]; jj--) {
        int t = pos[jj];
        boolean first = jj == chunkCu[i];
        float pj = Math.min(P_MAX, Math.max(P_MIN, prob[t]));
        double dP = 0; // a sum over d channels, kept in double
        for (int c = 0; c < d; c++) {
          float gc = g[jj * d + c] + carry[c];
          float prev = first ? 0f : ema[(jj - 1) * d + c];
          dz[jj * d + c] = pj * gc;
          dP += (double) gc * (z[jj * d + c] - prev);
          carry[c] = (1f - pj) * gc;
        }
        if (prob[t] >= P_MIN && prob[t] <= P_MAX) dprob[t] += (float) dP;
      }
    }
  }

  /**
   * The EMA values z̄_j [Tc × d] over the chunks into ema (the same recurrence as {@link
   * #forward}).
   */
  private static float[] emas(
      float[] ema, float[] z, float[] prob, SeqLens seqs, int d, int[] chunkCu, int[] pos) {
    for (int i = 0; i < seqs.count(); i++) {
      for (int jj = chunkCu[i]; jj < chunkCu[i + 1]; jj++) {
        float pj = Math.min(P_MAX, Math.max(P_MIN, prob[pos[jj]]));
        float keep = 1f - pj;
        for (int c = 0; c < d; c++) {
          float prev = jj == chunkCu[i] ? 0f : ema[(jj - 1) * d + c];
          ema[jj * d + c] = pj * z[jj * d + c] + keep * prev;
        }
      }
    }
    return ema;
  }
}
