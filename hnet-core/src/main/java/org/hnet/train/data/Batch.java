package org.hnet.train.data;

/**
 * B rows of L bytes, flattened row-major.
 *
 * <p>{@code tokens[b*L + i]} is a byte value 0..255. {@code cuSeqlens} lists the start of every
 * segment (state reset) followed by {@code B*L}: a segment starts at every row start and at every
 * BOS (254) inside a row. {@code targets[p]} is the next byte of the same segment, or -1 at the
 * last position of a segment, so nothing is ever predicted across a document boundary or from one
 * row into the next. Padding (only in the last eval batch) is a segment of its own with targets -1.
 */
public record Batch(int[] tokens, int[] targets, int[] cuSeqlens, int B, int L) {
  public static final int BOS = 254;
  public static final int EOS = 255;

  /** Number of positions with a target: the bytes a loss or a bits-per-byte figure counts. */
  public long predicted() {
    long n = 0;
    for (int t : targets) {
      if (t >= 0) n++;
    }
    return n;
  }

  /**
   * Builds a batch from {@code rows} rows of L bytes in {@code bytes}; only the first {@code valid}
   * positions hold data, the rest is padding (token 0, target -1, one segment).
   */
  static Batch of(byte[] bytes, int rows, int L, int valid) {
    int total = rows * L;
    int[] tokens = new int[total];
    int[] targets = new int[total];
    int segments = rows + (valid < total && valid % L != 0 ? 1 : 0);
    for (int p = 0; p < valid; p++) {
      int t = bytes[p] & 0xFF;
      tokens[p] = t;
      if (t == BOS && p % L != 0) segments++;
    }
    int[] cu = new int[segments + 1];
    int s = 0;
    for (int p = 0; p < total; p++) {
      boolean rowStart = p % L == 0;
      boolean padStart = p == valid && !rowStart;
      if (rowStart || padStart || (p < valid && tokens[p] == BOS)) cu[s++] = p;
      boolean last = p + 1 == total || (p + 1) % L == 0 || p + 1 >= valid || tokens[p + 1] == BOS;
      targets[p] = last || p >= valid ? -1 : tokens[p + 1];
    }
    cu[s] = total;
    return new Batch(tokens, targets, cu, rows, L);
  }
}
