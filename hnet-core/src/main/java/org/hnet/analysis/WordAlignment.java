package org.hnet.analysis;

import java.io.ByteArrayOutputStream;

/**
 * Word alignment ({@link ChunkStats}'s definitions) summed over several texts, e.g. the rows and
 * documents of a held-out sample: each text is its own sequence, with its forced boundary at 0.
 * Precision and recall are the pooled ratios (aligned boundaries over all boundaries, caught words
 * over all words) and the baselines the pooled expectations of random boundaries placed at each
 * text's own rate. One text gives exactly {@link ChunkStats#alignment}.
 */
public final class WordAlignment {
  private long boundaries;
  private long aligned;
  private long eligible;
  private long positions;
  private long words;
  private long caught;
  private double expectedCaught;
  private final ByteArrayOutputStream sample = new ByteArrayOutputStream();
  private final int sampleLimit;

  /**
   * @param sampleLimit bytes of text kept to decide whether the script has spaced words
   */
  public WordAlignment(int sampleLimit) {
    this.sampleLimit = sampleLimit;
  }

  /**
   * Adds one text: bytes [off, off + n) of {@code text} with the boundary flags at the same
   * positions of {@code boundary} (position off is the text's forced boundary, whatever it says).
   */
  public void add(byte[] text, int off, int n, boolean[] boundary) {
    if (n <= 0) return;
    byte[] t = java.util.Arrays.copyOfRange(text, off, off + n);
    if (sample.size() < sampleLimit) sample.write(t, 0, Math.min(n, sampleLimit - sample.size()));
    add(ChunkStats.separators(t), boundary, off);
  }

  /** The counts of one text given its separators; boundary[bOff + t] for position t. */
  void add(boolean[] sep, boolean[] boundary, int bOff) {
    int n = sep.length;
    long bounds = 0;
    for (int t = 1; t < n; t++) {
      boolean al = sep[t] || sep[t - 1];
      if (al) eligible++;
      if (boundary[bOff + t]) {
        bounds++;
        if (al) aligned++;
      }
    }
    boundaries += bounds;
    positions += Math.max(0, n - 1);
    double rate = n > 1 ? (double) bounds / (n - 1) : 0;
    double pTwo = 1 - (1 - rate) * (1 - rate);
    for (int t = 0; t < n; t++) {
      if (sep[t] || (t > 0 && !sep[t - 1])) continue; // not the first byte of a word
      words++;
      // Position 0 is the forced boundary, whatever the array says there.
      if (t == 0 || boundary[bOff + t] || t - 1 == 0 || boundary[bOff + t - 1]) caught++;
      expectedCaught += t <= 1 ? 1.0 : pTwo;
    }
  }

  /** Whether the texts added are in a script with whitespace-delimited words (see ChunkStats). */
  public boolean applies() {
    return ChunkStats.profile(sample.toByteArray()).wordAlignment();
  }

  /** The pooled alignment (precision null without boundaries, recall null without words). */
  public ChunkStats.Alignment result() {
    return new ChunkStats.Alignment(
        (int) Math.min(Integer.MAX_VALUE, boundaries),
        (int) Math.min(Integer.MAX_VALUE, aligned),
        boundaries == 0 ? null : (double) aligned / boundaries,
        (int) Math.min(Integer.MAX_VALUE, words),
        (int) Math.min(Integer.MAX_VALUE, caught),
        words == 0 ? null : (double) caught / words,
        positions > 0 ? (double) eligible / positions : null,
        words == 0 ? null : expectedCaught / words);
  }
}
