package org.hnet.nn;

import java.util.List;

/**
 * The dynamic-chunking router (paper eq. 4): p_t = ½(1 − cos(W_q h_{t−1}, W_k h_t)), clamped to
 * [0, 1], forced to 1 at every sequence start; b_t = [p_t > 0.5] (strict, as argmax over (1−p, p)
 * picks the first on a tie).
 */
public final class RoutingModule {
  public final Linear qProj;
  public final Linear kProj;
  public final int d;
  private final Params.Mode mode;
  // kept for the backward: normalised projections [T × d] and their norms [T]
  private float[] savedQ, savedK, savedQNorm, savedKNorm;
  private boolean[] savedStart;

  RoutingModule(Params ps, String prefix, int stage, int d) {
    this.d = d;
    this.mode = ps.mode;
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
    float[] qn = normalizeRows(q, T);
    float[] kn = normalizeRows(k, T);
    float[] p = new float[T];
    boolean[] mask = new boolean[T];
    float[] sel = new float[T];
    boolean[] start = starts(seqs);
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
    if (mode.training) {
      savedQ = q;
      savedK = k;
      savedQNorm = qn;
      savedKNorm = kn;
      savedStart = start;
    }
    return new Output(p, mask, sel, seqs);
  }

  /**
   * dp [T]: ∂L/∂p → ∂L/∂h [T × d]. The forced p = 1 at sequence starts is a constant and takes no
   * gradient; torch's clamp passes the gradient where 0 ≤ (1 − cos)/2 ≤ 1, which always holds.
   */
  public float[] backward(float[] dp) {
    int T = dp.length;
    float[] dq = new float[T * d], dk = new float[T * d];
    for (int t = 0; t < T; t++) {
      if (savedStart[t] || dp[t] == 0f) continue;
      float dcos = -0.5f * dp[t];
      int qo = (t - 1) * d, ko = t * d;
      for (int j = 0; j < d; j++) {
        dq[qo + j] += dcos * savedK[ko + j];
        dk[ko + j] += dcos * savedQ[qo + j];
      }
    }
    normalizeBackward(dq, savedQ, savedQNorm, T);
    normalizeBackward(dk, savedK, savedKNorm, T);
    float[] dh = qProj.backward(dq);
    float[] dhk = kProj.backward(dk);
    for (int i = 0; i < dh.length; i++) dh[i] += dhk[i];
    savedQ = savedK = savedQNorm = savedKNorm = null;
    return dh;
  }

  /** Decode state: the last hidden state of every row [R × d] and whether the row has seen a position. */
  public record Cache(float[] last, boolean[] seen) {}

  public Cache allocate(int rows) {
    return new Cache(new float[rows * d], new boolean[rows]);
  }

  /** After a prefill over the packed prompts: remembers each sequence's last hidden state. */
  public void fill(Cache c, float[] h, SeqLens seqs) {
    for (int i = 0; i < seqs.count(); i++) {
      if (seqs.length(i) == 0) continue;
      System.arraycopy(h, (seqs.start(i) + seqs.length(i) - 1) * d, c.last(), i * d, d);
      c.seen()[i] = true;
    }
  }

  /**
   * One position of R rows (the reference's RoutingModule.step): p = ½(1 − cos(W_q h_prev, W_k h))
   * against the row's previous hidden state, 1 for a row's first position. Inactive rows: p = 0,
   * no boundary, cache untouched.
   */
  public Output step(float[] h, Cache c, boolean[] active) {
    int R = active.length;
    float[] q = qProj.step(c.last(), R);
    float[] k = kProj.step(h, R);
    normalizeRows(q, R);
    normalizeRows(k, R);
    float[] p = new float[R], sel = new float[R];
    boolean[] mask = new boolean[R];
    for (int r = 0; r < R; r++) {
      if (!active[r]) continue;
      float pt;
      if (!c.seen()[r]) {
        pt = 1f;
      } else {
        float cos = 0f;
        for (int j = 0; j < d; j++) cos += q[r * d + j] * k[r * d + j];
        pt = Math.min(1f, Math.max(0f, (1f - cos) / 2f));
      }
      p[r] = pt;
      mask[r] = pt > 0.5f;
      sel[r] = mask[r] ? pt : 1f - pt;
      System.arraycopy(h, r * d, c.last(), r * d, d);
      c.seen()[r] = true;
    }
    return new Output(p, mask, sel, SeqLens.uniform(R, 1));
  }

  /**
   * Every stage's decisions mapped back to the byte positions of the flat stage-0 sequence (of T
   * positions): per stage, boundaries[t] is true where a stage-s chunk starts at byte t, and
   * probs[t] is the stage's boundary probability there (NaN where the stage has no position).
   */
  public record ByteLevel(List<boolean[]> boundaries, List<float[]> probs) {}

  public static ByteLevel byteLevel(List<Output> routing, int T) {
    List<boolean[]> bounds = new java.util.ArrayList<>();
    List<float[]> probs = new java.util.ArrayList<>();
    int[] pos = new int[T]; // the byte position of every position of the current stage
    for (int i = 0; i < T; i++) pos[i] = i;
    int count = T;
    for (Output r : routing) {
      boolean[] b = new boolean[T];
      float[] p = new float[T];
      java.util.Arrays.fill(p, Float.NaN);
      int[] next = new int[count];
      int m = 0;
      for (int i = 0; i < count; i++) {
        p[pos[i]] = r.boundaryProb()[i];
        b[pos[i]] = r.boundaryMask()[i];
        if (r.boundaryMask()[i]) next[m++] = pos[i];
      }
      bounds.add(b);
      probs.add(p);
      pos = next;
      count = m;
    }
    return new ByteLevel(bounds, probs);
  }

  static boolean[] starts(SeqLens seqs) {
    boolean[] start = new boolean[seqs.total()];
    for (int i = 0; i < seqs.count(); i++) if (seqs.length(i) > 0) start[seqs.start(i)] = true;
    return start;
  }

  /** Normalises the rows of v in place and returns their norms max(||v||, 1e-12). */
  private float[] normalizeRows(float[] v, int T) {
    float[] norms = new float[T];
    for (int t = 0; t < T; t++) {
      double ss = 0;
      for (int j = 0; j < d; j++) ss += (double) v[t * d + j] * v[t * d + j];
      float norm = (float) Math.max(Math.sqrt(ss), 1e-12);
      norms[t] = norm;
      for (int j = 0; j < d; j++) v[t * d + j] /= norm;
    }
    return norms;
  }

  /** In place: ∂L/∂v̂ → ∂L/∂v for v̂ = v/||v||: (g − v̂ (v̂·g)) / ||v||. */
  private void normalizeBackward(float[] g, float[] vhat, float[] norms, int T) {
    for (int t = 0; t < T; t++) {
      int o = t * d;
      double dot = 0;
      for (int j = 0; j < d; j++) dot += (double) vhat[o + j] * g[o + j];
      float n = norms[t];
      if (n <= 1e-12f) {
        // below the eps the reference divides by the constant 1e-12: the map is linear there
        for (int j = 0; j < d; j++) g[o + j] /= n;
        continue;
      }
      for (int j = 0; j < d; j++) g[o + j] = (g[o + j] - vhat[o + j] * (float) dot) / n;
    }
  }
}
