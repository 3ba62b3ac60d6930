package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Word alignment pooled over several texts (the rows and documents of a held-out sample). */
class WordAlignmentTest {
  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean[] at(int n, int... positions) {
    boolean[] b = new boolean[n];
    for (int p : positions) b[p] = true;
    return b;
  }

  @Test
  void oneTextIsChunkStatsAlignment() {
    byte[] text = utf8("Call me Ishmael. Some years ago");
    boolean[] b = at(text.length, 0, 4, 5, 8, 11, 17, 22, 25);
    WordAlignment w = new WordAlignment(1 << 10);
    w.add(text, 0, text.length, b);
    assertEquals(ChunkStats.compute(text, List.of(b)).stages().get(0).alignment(), w.result());
  }

  /**
   * Two texts pool their counts: precision is aligned over all boundaries, not a mean of ratios.
   */
  @Test
  void textsPoolTheirCounts() {
    byte[] a = utf8("the cat sat"), b = utf8("on a mat here");
    boolean[] ba = at(a.length, 0, 4, 6), bb = at(b.length, 0, 3, 5, 6, 10);
    ChunkStats.Alignment x = ChunkStats.compute(a, List.of(ba)).stages().get(0).alignment();
    ChunkStats.Alignment y = ChunkStats.compute(b, List.of(bb)).stages().get(0).alignment();
    // both texts in one buffer, each with its own forced start
    byte[] both = new byte[a.length + b.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    boolean[] bBoth = new boolean[both.length];
    System.arraycopy(ba, 0, bBoth, 0, a.length);
    System.arraycopy(bb, 0, bBoth, a.length, b.length);
    WordAlignment w = new WordAlignment(1 << 10);
    w.add(both, 0, a.length, bBoth);
    w.add(both, a.length, b.length, bBoth);
    ChunkStats.Alignment p = w.result();
    assertEquals(x.boundaries() + y.boundaries(), p.boundaries());
    assertEquals(x.aligned() + y.aligned(), p.aligned());
    assertEquals(
        (double) (x.aligned() + y.aligned()) / (x.boundaries() + y.boundaries()),
        p.precision(),
        1e-15);
    assertEquals((double) (x.caught() + y.caught()) / (x.words() + y.words()), p.recall(), 1e-15);
    double eligible =
        x.baselinePrecision() * (a.length - 1) + y.baselinePrecision() * (b.length - 1);
    assertEquals(eligible / (a.length - 1 + b.length - 1), p.baselinePrecision(), 1e-12);
    double expected = x.baselineRecall() * x.words() + y.baselineRecall() * y.words();
    assertEquals(expected / (x.words() + y.words()), p.baselineRecall(), 1e-12);
  }

  @Test
  void emptyAndUnspacedSamples() {
    WordAlignment none = new WordAlignment(100);
    assertNull(none.result().precision());
    assertNull(none.result().recall());
    WordAlignment han = new WordAlignment(1 << 10);
    byte[] t = utf8("東京は日本の首都です。人口は約千四百万人です。");
    han.add(t, 0, t.length, at(t.length, 0, 3));
    assertFalse(han.applies());
    WordAlignment en = new WordAlignment(1 << 10);
    byte[] e = utf8("the quick brown fox");
    en.add(e, 0, e.length, at(e.length, 0, 3));
    assertTrue(en.applies());
  }
}
