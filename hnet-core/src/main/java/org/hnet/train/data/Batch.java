package org.hnet.train.data;

/**
 * B rows of L bytes, flattened row-major.
 *
 * <p>{@code tokens[b*L + i]} is a byte value 0..255. {@code cuSeqlens} lists the start of every
 * segment (state reset) followed by {@code B*L}: a segment starts at every row start and at every
 * BOS (254) inside a row. {@code targets[p]} is the next byte of the same segment, or -1 at the
 * last position of a segment, so nothing is ever predicted across a document boundary or from one
 * row into the next. Padding (only in the last eval batch) is a segment of its own with targets -1.
 *
 * <p>A batch of a token-level model ({@link TokenCorpus}) holds token ids instead of bytes, with
 * its own separator id in BOS's role; {@code bytes} is the number of text bytes its targets stand
 * for, the denominator of bits per byte. For bytes it equals {@link #predicted()}.
 */
public record Batch(int[] tokens, int[] targets, int[] cuSeqlens, int B, int L, long bytes) {
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
    int[] tokens = new int[rows * L];
    for (int p = 0; p < valid; p++) tokens[p] = bytes[p] & 0xFF;
    return of(tokens, rows, L, valid, BOS, null);
  }

  /**
   * As {@link #of(byte[], int, int, int)} over ids already in {@code tokens} (rows × L, padding
   * zero), with {@code bos} starting a segment; {@code bytesOf[id]} is the text bytes of a target
   * id (null: one byte each).
   */
  static Batch of(int[] tokens, int rows, int L, int valid, int bos, int[] bytesOf) {
    int total = rows * L;
    int[] targets = new int[total];
    int segments = rows + (valid < total && valid % L != 0 ? 1 : 0);
    for (int p = 0; p < valid; p++) {
      if (tokens[p] == bos && p % L != 0) segments++;
    }
    int[] cu = new int[segments + 1];
    int s = 0;
    long textBytes = 0;
    for (int p = 0; p < total; p++) {
      boolean rowStart = p % L == 0;
      boolean padStart = p == valid && !rowStart;
      if (rowStart || padStart || (p < valid && tokens[p] == bos)) cu[s++] = p;
      boolean last = p + 1 == total || (p + 1) % L == 0 || p + 1 >= valid || tokens[p + 1] == bos;
      targets[p] = last || p >= valid ? -1 : tokens[p + 1];
      if (targets[p] >= 0) textBytes += bytesOf == null ? 1 : bytesOf[targets[p]];
    }
    cu[s] = total;
    return new Batch(tokens, targets, cu, rows, L, textBytes);
  }
}
