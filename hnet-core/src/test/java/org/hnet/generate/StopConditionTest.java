package org.hnet.generate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.hnet.generate.StopCondition.Reason;
import org.junit.jupiter.api.Test;

class StopConditionTest {

  private static List<byte[]> strings(String... s) {
    List<byte[]> out = new ArrayList<>();
    for (String x : s) out.add(x.getBytes(UTF_8));
    return out;
  }

  /** Feeds bytes until accept says stop; returns how many were accepted. */
  private static int feed(StopCondition c, byte[] in) {
    for (int i = 0; i < in.length; i++) {
      if (c.accept(in[i] & 0xFF)) return i + 1;
    }
    return in.length;
  }

  @Test
  void maxBytes() {
    StopCondition c = new StopCondition(3, true, List.of());
    assertFalse(c.accept('a'));
    assertFalse(c.accept('b'));
    assertEquals(Reason.NONE, c.reason());
    assertTrue(c.accept('c'));
    assertEquals(Reason.MAX_BYTES, c.reason());
    assertFalse(c.stoppedAtEos());
    assertEquals(3, c.count());
    assertThrows(IllegalStateException.class, () -> c.accept('d'));
  }

  @Test
  void eosStopsAndIsNotOutput() {
    StopCondition c = new StopCondition(100, true, strings("zz"));
    assertFalse(c.accept('a'));
    assertTrue(c.accept(StopCondition.EOS));
    assertEquals(Reason.EOS, c.reason());
    assertTrue(c.stoppedAtEos());
    assertEquals(-1, c.matchedStopString());
    // EOS on the last allowed byte is still reported as EOS, so the caller drops it.
    StopCondition last = new StopCondition(2, true, List.of());
    last.accept('a');
    assertTrue(last.accept(255));
    assertEquals(Reason.EOS, last.reason());
  }

  @Test
  void eosIsOrdinaryWhenNotStopping() {
    StopCondition c = new StopCondition(100, false, List.of(new byte[] {'x', (byte) 255}));
    assertFalse(c.accept(255));
    assertFalse(c.stoppedAtEos());
    assertFalse(c.accept('a'));
    assertFalse(c.accept('x'));
    assertTrue(c.accept(255));
    assertEquals(Reason.STOP_STRING, c.reason());
  }

  @Test
  void resetStartsOver() {
    // A partial match ("a") before a stop must not survive reset.
    StopCondition c = new StopCondition(100, true, strings("ab"));
    c.accept('a');
    assertTrue(c.accept(255));
    c.reset();
    assertEquals(Reason.NONE, c.reason());
    assertEquals(0, c.count());
    assertFalse(c.accept('b'));
    assertFalse(c.accept('a'));
    assertTrue(c.accept('b'));
  }

  @Test
  void stopStringIsPartOfOutput() {
    StopCondition c = new StopCondition(100, true, strings("\n\n", "END"));
    byte[] in = "hello END more".getBytes(UTF_8);
    int n = feed(c, in);
    assertEquals("hello END", new String(in, 0, n, UTF_8));
    assertEquals(Reason.STOP_STRING, c.reason());
    assertEquals(1, c.matchedStopString());
  }

  @Test
  void overlappingStopStrings() {
    StopCondition c = new StopCondition(100, true, strings("aab"));
    assertEquals(4, feed(c, "aaab".getBytes(UTF_8)));
    assertEquals(Reason.STOP_STRING, c.reason());
    StopCondition d = new StopCondition(100, true, strings("abab"));
    assertEquals(7, feed(d, "abaabab".getBytes(UTF_8)));
    StopCondition e = new StopCondition(100, true, strings("aabaaab"));
    assertEquals(10, feed(e, "aabaabaaab".getBytes(UTF_8)));
    // Two stop strings ending on the same byte: the first listed is reported.
    StopCondition f = new StopCondition(100, true, strings("xyz", "yz"));
    assertEquals(3, feed(f, "xyz".getBytes(UTF_8)));
    assertEquals(0, f.matchedStopString());
    StopCondition g = new StopCondition(100, true, strings("wyz", "yz"));
    assertEquals(3, feed(g, "xyz".getBytes(UTF_8)));
    assertEquals(1, g.matchedStopString());
  }

  @Test
  void stopStringBeatsMaxBytesOnTheSameByte() {
    StopCondition c = new StopCondition(3, true, strings("bc"));
    assertEquals(3, feed(c, "abc".getBytes(UTF_8)));
    assertEquals(Reason.STOP_STRING, c.reason());
  }

  @Test
  void stopStringsMatchNaiveSearch() {
    // Random short streams over a two-letter alphabet, so overlaps are everywhere.
    SplittableRandom r = new SplittableRandom(3);
    for (int it = 0; it < 20_000; it++) {
      int ns = r.nextInt(1, 4);
      List<byte[]> stops = new ArrayList<>();
      for (int s = 0; s < ns; s++) stops.add(randomAb(r, r.nextInt(1, 6)));
      byte[] in = randomAb(r, r.nextInt(0, 30));
      int want = in.length;
      int wantIndex = -1;
      search:
      for (int end = 1; end <= in.length; end++) {
        for (int s = 0; s < ns; s++) {
          if (endsWith(in, end, stops.get(s))) {
            want = end;
            wantIndex = s;
            break search;
          }
        }
      }
      StopCondition c = new StopCondition(1000, true, stops);
      assertEquals(want, feed(c, in));
      assertEquals(wantIndex, c.matchedStopString());
      assertEquals(wantIndex >= 0 ? Reason.STOP_STRING : Reason.NONE, c.reason());
    }
  }

  private static byte[] randomAb(SplittableRandom r, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (r.nextBoolean() ? 'a' : 'b');
    return b;
  }

  private static boolean endsWith(byte[] in, int end, byte[] s) {
    if (s.length > end) return false;
    for (int i = 0; i < s.length; i++) if (in[end - s.length + i] != s[i]) return false;
    return true;
  }

  @Test
  void invalidArgumentsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new StopCondition(0, true, List.of()));
    assertThrows(
        IllegalArgumentException.class, () -> new StopCondition(5, true, List.of(new byte[0])));
    assertThrows(NullPointerException.class, () -> new StopCondition(5, true, null));
    StopCondition c = new StopCondition(5, true, List.of());
    assertThrows(IllegalArgumentException.class, () -> c.accept(256));
    assertThrows(IllegalArgumentException.class, () -> c.accept(-1));
  }

  @Test
  void stopStringsAreCopied() {
    byte[] s = "ab".getBytes(UTF_8);
    StopCondition c = new StopCondition(100, true, List.of(s));
    s[1] = 'c';
    c.accept('a');
    assertTrue(c.accept('b'));
  }
}
