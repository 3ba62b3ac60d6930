package org.hnet.nn;

/** Chunking: keep the boundary positions; the inner sequence of each row is its boundaries in order. */
public final class ChunkLayer {
  private ChunkLayer() {}

  /** Offsets of the inner sequences: row i's chunks are [next[i], next[i+1]). */
  public static SeqLens nextSeqLens(boolean[] mask, SeqLens seqs) {
    int n = seqs.count();
    int[] next = new int[n + 1];
    int count = 0;
    for (int i = 0; i < n; i++) {
      for (int t = seqs.start(i); t < seqs.start(i) + seqs.length(i); t++) if (mask[t]) count++;
      next[i + 1] = count;
    }
    return new SeqLens(next);
  }

  /** h [T × d] → the rows of h at boundary positions [Tc × d]. */
  public static float[] forward(float[] h, boolean[] mask, int d, int Tc) {
    float[] out = new float[Tc * d];
    int j = 0;
    for (int t = 0; t < mask.length; t++) {
      if (mask[t]) System.arraycopy(h, t * d, out, (j++) * d, d);
    }
    return out;
  }
}
