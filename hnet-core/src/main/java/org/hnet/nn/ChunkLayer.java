package org.hnet.nn;

/**
 * Chunking: keep the boundary positions; the inner sequence of each row is its boundaries in order.
 */
public final class ChunkLayer {
  private ChunkLayer() {}

  /** Offsets of the inner sequences: row i's chunks are [next[i], next[i+1]). */
  public static SeqLens nextSeqLens(boolean[] mask, SeqLens seqs) {
    return nextSeqLens(mask, seqs, null);
  }

  /**
   * The same, written into {@code reuse}'s offsets when it has as many sequences (its holder owns
   * it: every user of the old offsets is done with them), else a new SeqLens.
   */
  static SeqLens nextSeqLens(boolean[] mask, SeqLens seqs, SeqLens reuse) {
    int n = seqs.count();
    int[] next = reuse != null && reuse.count() == n ? reuse.cu() : new int[n + 1];
    int count = 0;
    next[0] = 0;
    for (int i = 0; i < n; i++) {
      for (int t = seqs.start(i); t < seqs.start(i) + seqs.length(i); t++) if (mask[t]) count++;
      next[i + 1] = count;
    }
    return next == (reuse == null ? null : reuse.cu()) ? reuse : new SeqLens(next);
  }

  /** h [T × d] → the rows of h at boundary positions [Tc × d]. */
  public static float[] forward(float[] h, boolean[] mask, int d, int Tc) {
    return forward(new float[Tc * d], h, mask, mask.length, d);
  }

  /** The same into out [≥ Tc × d], over the first T positions of mask; returns out. */
  static float[] forward(float[] out, float[] h, boolean[] mask, int T, int d) {
    org.hnet.kernels.StageOps.gatherRows(out, h, mask, T, d);
    return out;
  }
}
