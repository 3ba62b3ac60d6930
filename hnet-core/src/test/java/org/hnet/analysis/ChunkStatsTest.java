package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.SplittableRandom;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

class ChunkStatsTest {

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static boolean[] at(int n, int... positions) {
    boolean[] b = new boolean[n];
    for (int p : positions) b[p] = true;
    return b;
  }

  /*
   * "ab cd—ef gh": a0 b1 ␣2 c3 d4 —5,6,7 (E2 80 94) e8 f9 ␣10 g11 h12; 13 bytes.
   * Separator bytes: 2, 5, 6, 7 (every byte of the em dash), 10.
   * Words: "ab"@0, "cd"@3, "ef"@8, "gh"@11.
   *
   * Stage 0 boundaries {0, 2, 4, 6, 8, 12}; the forced 0 is not counted, leaving 5:
   *   2: byte 2 is a space          -> aligned
   *   4: bytes 4 'd', 3 'c'         -> not
   *   6: byte 6 is inside the dash  -> aligned
   *   8: byte 7 is the dash's last  -> aligned
   *  12: bytes 12 'h', 11 'g'       -> not
   *   precision = 3/5 = 0.6.
   * Words: ab (0: forced), cd (byte before, 2, is a boundary), ef (8) caught; gh (11 and 10 not
   *   boundaries) missed: recall = 3/4.
   * Baseline: positions t >= 1 with sep[t] or sep[t-1]: 2,3,5,6,7,8,10,11 = 8 of 12 -> 2/3.
   *   rate r = 5/12; words at 3, 8, 11 are caught w.p. 1-(7/12)^2 = 95/144, the one at 0 w.p. 1:
   *   baseline recall = (1 + 3*95/144)/4 = 429/576.
   * Lengths: 2,2,2,2,4,1 -> mean 13/6, median 2, p90 = 6th smallest (ceil 5.4) = 4.
   *
   * Stage 1 boundaries {0, 8}: precision 1/1; caught ab, ef -> recall 2/4; r = 1/12, baseline
   *   recall = (1 + 3*(1-(11/12)^2))/4.
   */
  @Test
  void handMadeBoundariesWithEmDash() {
    byte[] text = utf8("ab cd—ef gh");
    assertEquals(13, text.length);
    ChunkStats st = ChunkStats.compute(text, List.of(at(13, 0, 2, 4, 6, 8, 12), at(13, 0, 8)), 5);
    ChunkStats.Stage s0 = st.stages().get(0);
    assertEquals(6, s0.boundaries());
    assertEquals(13.0 / 6, s0.compression(), 1e-12);
    ChunkStats.Alignment a = s0.alignment();
    assertEquals(5, a.boundaries());
    assertEquals(3, a.aligned());
    assertEquals(0.6, a.precision(), 1e-12);
    assertEquals(4, a.words());
    assertEquals(3, a.caught());
    assertEquals(0.75, a.recall(), 1e-12);
    assertEquals(8.0 / 12, a.baselinePrecision(), 1e-12);
    assertEquals(429.0 / 576, a.baselineRecall(), 1e-12);

    ChunkStats.Lengths l = s0.lengths();
    assertEquals(13.0 / 6, l.mean(), 1e-12);
    assertEquals(2.0, l.median());
    assertEquals(4, l.p90());
    assertEquals(4, l.max());
    int[] hist = new int[65];
    hist[0] = 1;
    hist[1] = 4;
    hist[3] = 1;
    assertArrayEquals(hist, l.histogram());
    // Six distinct chunks ("ab", " c", "d" + half a dash, ...), each once: the top 5 are kept.
    assertEquals(5, s0.top().size());
    assertTrue(s0.top().stream().anyMatch(c -> c.text().equals(" c") && c.display().equals("␣c")));

    ChunkStats.Alignment a1 = st.stages().get(1).alignment();
    assertEquals(1, a1.boundaries());
    assertEquals(1.0, a1.precision());
    assertEquals(0.5, a1.recall());
    double r = 1.0 / 12;
    assertEquals((1 + 3 * (1 - (1 - r) * (1 - r))) / 4, a1.baselineRecall(), 1e-12);
    assertEquals(8.0 / 12, a1.baselinePrecision(), 1e-12);
  }

  /*
   * "the Grand": t0 h1 e2 ␣3 G4 r5 a6 n7 d8. A boundary before the space (at 3, " Grand") and one
   * at the letter (4, "Grand") are both aligned and both catch "Grand"; one at 5 is neither.
   */
  @Test
  void boundaryAtSpaceAndAtWordStartBothAlign() {
    byte[] text = utf8("the Grand");
    for (int pos : new int[] {3, 4}) {
      ChunkStats.Alignment a =
          ChunkStats.compute(text, List.of(at(9, 0, pos))).stages().get(0).alignment();
      assertEquals(1.0, a.precision(), "boundary at " + pos);
      assertEquals(1.0, a.recall(), "boundary at " + pos);
    }
    ChunkStats.Alignment a =
        ChunkStats.compute(text, List.of(at(9, 0, 5))).stages().get(0).alignment();
    assertEquals(0.0, a.precision());
    assertEquals(0.5, a.recall()); // "the" is caught by the forced boundary only
  }

  /* Only the forced boundary: no counted boundaries, so precision is undefined (not 1). */
  @Test
  void forcedBoundaryIsNotCounted() {
    byte[] text = utf8("hello world");
    ChunkStats.Stage s = ChunkStats.compute(text, List.of(at(11, 0))).stages().get(0);
    assertEquals(1, s.boundaries());
    assertEquals(11.0, s.compression());
    assertEquals(0, s.alignment().boundaries());
    assertNull(s.alignment().precision());
    assertEquals(0.5, s.alignment().recall()); // "hello" (forced) of hello, world
    // Rate 0: only the word at 0 can be caught.
    assertEquals(0.5, s.alignment().baselineRecall(), 1e-12);
    // Eligible positions 5 (space), 6 (after it) of 1..10.
    assertEquals(0.2, s.alignment().baselinePrecision(), 1e-12);
  }

  /* A word starting at byte 1 is always caught: the byte before it is the forced boundary. */
  @Test
  void wordAfterLeadingSeparatorIsCaughtByForcedBoundary() {
    byte[] text = utf8(" ab cd");
    ChunkStats.Alignment a =
        ChunkStats.compute(text, List.of(at(6, 0))).stages().get(0).alignment();
    assertEquals(2, a.words());
    assertEquals(1, a.caught());
    assertEquals(0.5, a.baselineRecall(), 1e-12); // (1 + 0)/2 at rate 0
  }

  /* The exact baselines agree with the mean over random boundary placements at the same rate. */
  @Test
  void baselineMatchesSimulation() {
    byte[] text =
        utf8("It was the best of times, it was the worst of times — and so on, for ever.");
    int n = text.length;
    boolean[] sep = ChunkStats.separators(text);
    // Exact values for a chunking with m non-forced boundaries, i.e. rate m / (n - 1).
    int m = (n - 1) / 4;
    boolean[] ref = new boolean[n];
    ref[0] = true;
    for (int t = 1; t <= m; t++) ref[t] = true;
    ChunkStats.Alignment exact = ChunkStats.alignment(sep, ref);
    double rate = (double) m / (n - 1);
    SplittableRandom rng = new SplittableRandom(1);
    int trials = 40_000;
    double sumAligned = 0;
    double sumBounds = 0;
    double sumRecall = 0;
    for (int k = 0; k < trials; k++) {
      boolean[] b = new boolean[n];
      b[0] = true;
      for (int t = 1; t < n; t++) b[t] = rng.nextDouble() < rate;
      ChunkStats.Alignment a = ChunkStats.alignment(sep, b);
      sumAligned += a.aligned();
      sumBounds += a.boundaries();
      sumRecall += a.recall();
    }
    assertEquals(exact.baselinePrecision(), sumAligned / sumBounds, 0.005);
    assertEquals(exact.baselineRecall(), sumRecall / trials, 0.005);
  }

  @Test
  void cjkTextHasNoWordAlignment() {
    byte[] text = utf8("東京は日本の首都です。人口は約千四百万人です。");
    ChunkStats st = ChunkStats.compute(text, List.of(at(text.length, 0, 3, 9, 12)));
    assertFalse(st.profile().wordAlignment());
    assertNotNull(st.profile().note());
    assertTrue(st.profile().cjkShare() > 0.9);
    ChunkStats.Stage s = st.stages().get(0);
    assertNull(s.alignment());
    assertEquals(4, s.boundaries());
    assertNotNull(s.lengths().mean());
    assertTrue(st.toJson().contains("\"alignment\" : null"));
  }

  @Test
  void unspacedNonLatinScriptHasNoWordAlignmentButSpacedOnesDo() {
    byte[] thai = utf8("สวัสดีครับวันนี้อากาศดีมาก");
    assertFalse(ChunkStats.profile(thai).wordAlignment());
    byte[] russian = utf8("Москва — столица России, крупнейший город страны.");
    assertTrue(ChunkStats.profile(russian).wordAlignment());
    byte[] arabic = utf8("القاهرة هي عاصمة مصر وأكبر مدنها");
    assertTrue(ChunkStats.profile(arabic).wordAlignment());
    // Latin text with its spaces removed (the NOSPACE perturbation) still gets alignment.
    assertTrue(ChunkStats.profile(utf8("thequickbrownfox,jumpedover.")).wordAlignment());
  }

  @Test
  void jsonRoundTripsThroughJackson() throws Exception {
    byte[] text = utf8("ab cd—ef gh");
    String json = ChunkStats.compute(text, List.of(at(13, 0, 2, 8))).toJson();
    JsonNode root = new ObjectMapper().readTree(json);
    assertEquals(13, root.get("bytes").asInt());
    JsonNode s0 = root.get("stages").get(0);
    assertEquals(3, s0.get("boundaries").asInt());
    assertEquals(1.0, s0.get("alignment").get("precision").asDouble());
    assertEquals(65, s0.get("lengths").get("histogram").size());
    assertTrue(s0.get("top").get(0).has("display"));
  }

  @Test
  void rejectsInconsistentBoundaries() {
    byte[] text = utf8("abcd");
    assertThrows(HNetException.class, () -> ChunkStats.compute(text, List.of(new boolean[3])));
    assertThrows(HNetException.class, () -> ChunkStats.compute(text, List.of(at(4, 1))));
    HNetException e =
        assertThrows(
            HNetException.class, () -> ChunkStats.compute(text, List.of(at(4, 0, 2), at(4, 0, 3))));
    assertTrue(e.getMessage().contains("byte 3"), e.getMessage());
  }

  @Test
  void separatorsCoverEveryByteOfMultiByteWhitespaceAndPunctuation() {
    // NBSP (C2 A0, Zs), em dash (3 bytes, Pd), ideographic full stop (3 bytes, Po), é (letter).
    boolean[] sep = ChunkStats.separators(utf8("a\u00a0b—c。é$"));
    boolean[] want = {
      false, true, true, false, true, true, true, false, true, true, true, false, false, true
    };
    assertArrayEquals(want, sep);
  }

  @Test
  void emptyText() {
    ChunkStats st = ChunkStats.compute(new byte[0], List.of(new boolean[0]));
    assertEquals(0, st.stages().get(0).boundaries());
    assertNull(st.stages().get(0).compression());
    assertNull(st.stages().get(0).lengths().mean());
  }
}
