package org.hnet.nn;

/**
 * The dynamic-chunking router (paper eq. 4): p_t = ½(1 − cos(W_q h_{t−1}, W_k h_t)), clamped to
 * [0, 1], forced to 1 at every sequence start; b_t = [p_t > 0.5] (strict, as argmax over (1−p, p)
 * picks the first on a tie).
 */
public final class RoutingModule {
  public final Linear qProj;
  public final Linear kProj;
  public final int d;

  RoutingModule(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.qProj = new Linear(ps, prefix + ".q_proj_layer", stage, d, d, false);
    this.kProj = new Linear(ps, prefix + ".k_proj_layer", stage, d, d, false);
  }

  /** The routing decision of one stage over its packed sequence. */
  public record Output(float[] boundaryProb, boolean[] boundaryMask, float[] selectedProbs, SeqLens seqs) {
    public int boundaries() {
      int n = 0;
      for (boolean b : boundaryMask) if (b) n++;
      return n;
    }
  }

  public Output forward(float[] h, SeqLens seqs) {
    int T = seqs.total();
    float[] q = qProj.forward(h, T);
    float[] k = kProj.forward(h, T);
    // F.normalize(v) = v / max(||v||, 1e-12), applied before the dot product as the reference does
    normalizeRows(q, T);
    normalizeRows(k, T);
    float[] p = new float[T];
    boolean[] mask = new boolean[T];
    float[] sel = new float[T];
    boolean[] start = new boolean[T];
    for (int i = 0; i < seqs.count(); i++) if (seqs.length(i) > 0) start[seqs.start(i)] = true;
    for (int t = 0; t < T; t++) {
      float pt;
      if (start[t]) {
        pt = 1f;
      } else {
        float cos = 0f;
        int qo = (t - 1) * d, ko = t * d;
        for (int j = 0; j < d; j++) cos += q[qo + j] * k[ko + j];
        pt = Math.min(1f, Math.max(0f, (1f - cos) / 2f));
      }
      p[t] = pt;
      mask[t] = pt > 0.5f;
      sel[t] = mask[t] ? pt : 1f - pt;
    }
    return new Output(p, mask, sel, seqs);
  }

  private void normalizeRows(float[] v, int T) {
    for (int t = 0; t < T; t++) {
      double ss = 0;
      for (int j = 0; j < d; j++) ss += (double) v[t * d + j] * v[t * d + j];
      float norm = (float) Math.max(Math.sqrt(ss), 1e-12);
      for (int j = 0; j < d; j++) v[t * d + j] /= norm;
    }
  }
}
