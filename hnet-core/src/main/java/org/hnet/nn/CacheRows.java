package org.hnet.nn;

/**
 * Copies one row of a decode cache into a row of another cache of the same model and the same
 * maximum length: every per-row state (the convolution and scan states, the attention keys and
 * values with the row's position, the router's last hidden state and count, the dechunking's last
 * value) of every stage. What continuous batching needs: a request is prefilled alone and its row
 * joins a running batch; the batch's other rows are untouched.
 */
final class CacheRows {
  private CacheRows() {}

  static void copy(HNet.Cache s, int sRows, int sRow, HNet.Cache d, int dRows, int dRow) {
    layers(s.encoder, sRows, sRow, d.encoder, dRows, dRow);
    layers(s.decoder, sRows, sRow, d.decoder, dRows, dRow);
    layers(s.innermost, sRows, sRow, d.innermost, dRows, dRow);
    if (s.routing != null) {
      row(s.routing.last(), sRows, sRow, d.routing.last(), dRows, dRow);
      d.routing.seen()[dRow] = s.routing.seen()[sRow];
      d.routing.count()[dRow] = s.routing.count()[sRow];
    }
    if (s.dechunkLast != null) row(s.dechunkLast, sRows, sRow, d.dechunkLast, dRows, dRow);
    if (s.inner != null) copy(s.inner, sRows, sRow, d.inner, dRows, dRow);
  }

  private static void layers(Object[] s, int sRows, int sRow, Object[] d, int dRows, int dRow) {
    if (s == null) return;
    for (int i = 0; i < s.length; i++) {
      switch (s[i]) {
        case Mamba2.Cache m -> {
          Mamba2.Cache t = (Mamba2.Cache) d[i];
          row(m.conv(), sRows, sRow, t.conv(), dRows, dRow);
          row(m.ssm(), sRows, sRow, t.ssm(), dRows, dRow);
          // the weights of the row's prefill, the latest (they are the same unless they changed)
          System.arraycopy(m.taps(), 0, t.taps(), 0, t.taps().length);
        }
        case CausalMHA.Cache a -> {
          CausalMHA.Cache t = (CausalMHA.Cache) d[i];
          if (a.cap() != t.cap()) {
            throw new IllegalArgumentException(
                "attention caches of " + a.cap() + " and " + t.cap() + " positions");
          }
          row(a.kv(), sRows, sRow, t.kv(), dRows, dRow);
          t.pos()[dRow] = a.pos()[sRow];
        }
        default -> throw new IllegalStateException("unknown cache " + s[i].getClass());
      }
    }
  }

  private static void row(float[] s, int sRows, int sRow, float[] d, int dRows, int dRow) {
    int n = s.length / sRows;
    if (d.length / dRows != n) throw new IllegalArgumentException("caches of different shapes");
    System.arraycopy(s, sRow * n, d, dRow * n, n);
  }
}
