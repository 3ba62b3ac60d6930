package org.hnet.kernels;

import org.hnet.tensor.Rows;

/**
 * The SSD scan as its per-token recurrence ({@link Ssd}'s class comment has the math): the
 * specification of {@link Ssd#scan} and its test twin, with the same arguments. Dimension legend: T
 * tokens, H heads, P head dim, N state size.
 */
public final class SsdNaive {
  private SsdNaive() {}

  /**
   * The per-token recurrence; same arguments as {@link Ssd#scan} ({@code chunkSize} is ignored).
   */
  public static void scan(
      Rows yv,
      float[] finalStates,
      SsdRows in,
      SsdHeads hp,
      int[] cuSeqlens,
      int nSeq,
      int chunkSize) {
    int H = hp.heads(), P = hp.headDim(), N = hp.state();
    Ssd.checkArgs(cuSeqlens, nSeq, H, P, N, chunkSize, finalStates);
    int T = cuSeqlens[nSeq];
    in.check("in", T, hp);
    yv.require("y", T, H * P);
    float[] y = yv.a(), x = in.x.a(), dt = in.dt.a(), b = in.b.a(), c = in.c.a();
    float[] dtBias = hp.dtBias(), aLog = hp.aLog(), d = hp.d();
    float[] s = new float[P * N]; // one head's state, reused (spec code, not the hot path)
    for (int seq = 0; seq < nSeq; seq++) {
      for (int h = 0; h < H; h++) {
        java.util.Arrays.fill(s, 0f);
        float a = Ssd.negExp(aLog[h]);
        for (int t = cuSeqlens[seq]; t < cuSeqlens[seq + 1]; t++) {
          float dtv = Ssd.softplus(dt[in.dt.at(t) + h] + dtBias[h]);
          float dA = Ssd.decay(dtv, a);
          int xb = in.x.at(t) + h * P, bb = in.b.at(t), cb = in.c.at(t);
          int yb = yv.at(t) + h * P;
          for (int p = 0; p < P; p++) {
            float dx = dtv * x[xb + p];
            float acc = 0f;
            for (int n = 0; n < N; n++) {
              float v = s[p * N + n] * dA + dx * b[bb + n];
              s[p * N + n] = v;
              acc += v * c[cb + n];
            }
            y[yb + p] = acc + d[h] * x[xb + p];
          }
        }
        if (finalStates != null) {
          System.arraycopy(s, 0, finalStates, (seq * H + h) * P * N, P * N);
        }
      }
    }
  }
}
