package org.hnet.generate;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The oracle throughout is the JDK decoder, {@code new String(bytes, UTF_8)}. */
class Utf8StreamTest {
  private static final String R = "\uFFFD";

  private static byte[] bytes(int... v) {
    byte[] b = new byte[v.length];
    for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
    return b;
  }

  /** Per-byte outputs of push, followed by the flush output. */
  private static String[] pieces(byte[] in) {
    return pieces(new Utf8Stream(), in);
  }

  private static String[] pieces(Utf8Stream s, byte[] in) {
    String[] out = new String[in.length + 1];
    for (int i = 0; i < in.length; i++) out[i] = s.push(in[i] & 0xFF);
    out[in.length] = s.flush();
    return out;
  }

  private static String decode(byte[] in) {
    return String.join("", pieces(in));
  }

  private static void assertPieces(byte[] in, String... expected) {
    assertEquals(Arrays.asList(expected), Arrays.asList(pieces(in)));
    assertEquals(new String(in, UTF_8), decode(in), "oracle");
  }

  @Test
  void ascii() {
    assertPieces("hi!".getBytes(UTF_8), "h", "i", "!", "");
    assertPieces(bytes(0, 0x7F), "\0", "\u007F", "");
  }

  @Test
  void multiByteEmittedExactlyWhenComplete() {
    assertPieces("é".getBytes(UTF_8), "", "é", ""); // C3 A9
    assertPieces("€".getBytes(UTF_8), "", "", "€", ""); // E2 82 AC
    assertPieces("😀".getBytes(UTF_8), "", "", "", "😀", ""); // F0 9F 98 80
    // Boundaries of each length.
    assertPieces(bytes(0xC2, 0x80), "", "\u0080", "");
    assertPieces(bytes(0xDF, 0xBF), "", "\u07FF", "");
    assertPieces(bytes(0xE0, 0xA0, 0x80), "", "", "\u0800", "");
    assertPieces(bytes(0xEF, 0xBF, 0xBF), "", "", "\uFFFF", "");
    assertPieces(bytes(0xF0, 0x90, 0x80, 0x80), "", "", "", "\uD800\uDC00", "");
    assertPieces(bytes(0xF4, 0x8F, 0xBF, 0xBF), "", "", "", "\uDBFF\uDFFF", "");
  }

  @Test
  void emojiFollowedByAsciiNotDelayed() {
    byte[] in = "😀a🎉b".getBytes(UTF_8);
    assertPieces(in, "", "", "", "😀", "a", "", "", "", "🎉", "b", "");
  }

  @Test
  void invalidLeadBytes() {
    for (int b : new int[] {0x80, 0x9F, 0xBF, 0xC0, 0xC1, 0xF5, 0xF8, 0xFE, 0xFF}) {
      assertPieces(bytes(b, 'a'), R, "a", "");
    }
    assertPieces(bytes(0x80, 0x80, 0x80), R, R, R, "");
  }

  @Test
  void overlongsAreInvalid() {
    assertPieces(bytes(0xC0, 0x80), R, R, ""); // C0 is never a lead
    assertPieces(bytes(0xC1, 0xBF), R, R, "");
    // E0 and F0 are valid leads: the overlong shows at the second byte, which is then redone.
    assertPieces(bytes(0xE0, 0x80, 0x80), "", R + R, R, "");
    assertPieces(bytes(0xE0, 0x9F, 0xBF), "", R + R, R, "");
    assertPieces(bytes(0xF0, 0x80, 0x80, 0x80), "", R + R, R, R, "");
    assertPieces(bytes(0xF0, 0x8F, 0xBF, 0xBF), "", R + R, R, R, "");
  }

  @Test
  void surrogatesAreInvalidJdkCount() {
    // The JDK replaces a whole ED A0..BF xx unit by one U+FFFD (see Utf8Stream's class comment).
    assertPieces(bytes(0xED, 0xA0, 0x80), "", "", R, "");
    assertPieces(bytes(0xED, 0xBF, 0xBF), "", "", R, "");
    assertPieces(bytes(0xED, 0xA0, 'a'), "", "", R + "a", "");
    assertPieces(bytes(0xED, 0xA0), "", "", R);
    assertPieces(bytes(0xED, 0x9F, 0xBF), "", "", "\uD7FF", ""); // last one below
    assertPieces(bytes(0xEE, 0x80, 0x80), "", "", "\uE000", ""); // first one above
  }

  @Test
  void surrogatesAreInvalidWhatwgCount() {
    // WHATWG: A0..BF is not a valid second byte after ED, so each byte gets its own U+FFFD.
    assertEquals(
        List.of("", R + R, R, ""), List.of(pieces(Utf8Stream.whatwg(), bytes(0xED, 0xA0, 0x80))));
    assertEquals(
        List.of("", R + R, "a", ""), List.of(pieces(Utf8Stream.whatwg(), bytes(0xED, 0xBF, 'a'))));
    assertEquals(
        List.of("", "", "\uD7FF", ""),
        List.of(pieces(Utf8Stream.whatwg(), bytes(0xED, 0x9F, 0xBF))));
  }

  @Test
  void aboveMaxCodePointIsInvalid() {
    assertPieces(bytes(0xF4, 0x90, 0x80, 0x80), "", R + R, R, R, "");
    assertPieces(bytes(0xF5, 0x80, 0x80, 0x80), R, R, R, R, "");
    assertPieces(bytes(0xFF, 0xBF), R, R, "");
  }

  @Test
  void truncatedSequencesGiveOneReplacementThenRedoTheBreakingByte() {
    assertPieces(bytes(0xC3, 'a'), "", R + "a", "");
    assertPieces(bytes(0xE2, 0x82, 'a'), "", "", R + "a", "");
    assertPieces(bytes(0xF0, 0x9F, 0x98, 'a'), "", "", "", R + "a", "");
    // The breaking byte is itself a lead: it opens a new character.
    assertPieces(bytes(0xE2, 0x82, 0xC3, 0xA9), "", "", R, "é", "");
    assertPieces(bytes(0xF0, 0x9F, 0xF0, 0x9F, 0x98, 0x80), "", "", R, "", "", "😀", "");
    // The breaking byte is invalid as a lead too: two replacements at once.
    assertPieces(bytes(0xC3, 0xFF), "", R + R, "");
    assertPieces(bytes(0xE0, 0x80), "", R + R, ""); // E0 80 breaks at the second byte
    // Truncated at the end of the stream: flush gives one replacement.
    assertPieces(bytes('x', 0xF0, 0x9F, 0x98), "x", "", "", "", R);
    assertPieces(bytes(0xE2), "", R);
  }

  @Test
  void rejectsOutOfRangeAndFlushResets() {
    Utf8Stream s = new Utf8Stream();
    assertThrows(IllegalArgumentException.class, () -> s.push(256));
    assertThrows(IllegalArgumentException.class, () -> s.push(-1));
    s.push(0xE2);
    assertEquals(1, s.pendingBytes());
    s.push(0x82);
    assertEquals(2, s.pendingBytes());
    assertEquals(R, s.flush());
    assertEquals(0, s.pendingBytes());
    assertEquals("a", s.push('a'));
  }

  /** Bytes that exercise every branch: boundaries of each lead and continuation range. */
  private static final int[] INTERESTING = {
    0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
    0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFE, 0xFF
  };

  @Test
  void allShortSequencesMatchJdk() {
    // Every sequence of up to two bytes, then up to four bytes over the interesting values.
    for (int a = 0; a < 256; a++) {
      byte[] one = bytes(a);
      assertEquals(new String(one, UTF_8), decode(one));
      for (int b = 0; b < 256; b++) {
        byte[] two = bytes(a, b);
        assertEquals(new String(two, UTF_8), decode(two), () -> Arrays.toString(two));
      }
    }
    int n = INTERESTING.length;
    byte[] four = new byte[4];
    for (int i = 0; i < n * n * n * n; i++) {
      four[0] = (byte) INTERESTING[i % n];
      four[1] = (byte) INTERESTING[i / n % n];
      four[2] = (byte) INTERESTING[i / (n * n) % n];
      four[3] = (byte) INTERESTING[i / (n * n * n)];
      byte[] three = Arrays.copyOf(four, 3);
      assertEquals(new String(three, UTF_8), decode(three), () -> Arrays.toString(three));
      assertEquals(new String(four, UTF_8), decode(four), () -> Arrays.toString(four));
    }
  }

  /** Random streams: mostly valid text with every kind of damage mixed in. */
  private static byte[] randomStream(SplittableRandom r) {
    byte[] out = new byte[r.nextInt(0, 40)];
    int i = 0;
    while (i < out.length) {
      switch (r.nextInt(5)) {
        case 0 -> out[i++] = (byte) r.nextInt(256);
        case 1 -> out[i++] = (byte) INTERESTING[r.nextInt(INTERESTING.length)];
        case 2 -> out[i++] = (byte) r.nextInt(0x80, 0xC0); // stray continuation
        default -> {
          // A valid character, sometimes cut short.
          int cp = r.nextInt(4) == 0 ? r.nextInt(0x10000, 0x110000) : r.nextInt(0x80, 0x10000);
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'z';
          byte[] enc = new String(Character.toChars(cp)).getBytes(UTF_8);
          int len = r.nextInt(4) == 0 ? r.nextInt(1, enc.length + 1) : enc.length;
          for (int j = 0; j < len && i < out.length; j++) out[i++] = enc[j];
        }
      }
    }
    return out;
  }

  @Test
  void randomStreamsMatchJdk() {
    SplittableRandom r = new SplittableRandom(20240601);
    // One decoder for all streams: flush must leave it clean for the next.
    Utf8Stream jdk = new Utf8Stream();
    Utf8Stream whatwg = Utf8Stream.whatwg();
    StringBuilder sb = new StringBuilder();
    int compared = 0;
    for (int it = 0; it < 100_000; it++) {
      byte[] in = randomStream(r);
      String want = new String(in, UTF_8);
      assertStream(jdk, in, want, sb, it);
      if (!hasSurrogatePrefix(in)) {
        assertStream(whatwg, in, want, sb, it);
        compared++;
      }
    }
    assertTrue(compared > 50_000);
  }

  private static void assertStream(Utf8Stream s, byte[] in, String want, StringBuilder sb, int it) {
    sb.setLength(0);
    for (byte b : in) sb.append(s.push(b & 0xFF));
    sb.append(s.flush());
    if (!want.contentEquals(sb)) {
      assertEquals(want, sb.toString(), "stream " + it + ": " + Arrays.toString(in));
    }
  }

  /** Whether ED is followed by A0..BF somewhere: the one place the JDK and WHATWG differ. */
  private static boolean hasSurrogatePrefix(byte[] in) {
    for (int i = 0; i + 1 < in.length; i++) {
      if ((in[i] & 0xFF) == 0xED && (in[i + 1] & 0xFF) >= 0xA0 && (in[i + 1] & 0xFF) <= 0xBF) {
        return true;
      }
    }
    return false;
  }

  /**
   * Eagerness: after every byte, what was emitted equals the JDK decoding of all bytes but the held
   * ones, and the held bytes can still become a valid character (so nothing is held for longer than
   * necessary).
   */
  @Test
  void emitsEverythingThatIsDecidable() {
    SplittableRandom r = new SplittableRandom(7);
    for (int it = 0; it < 10_000; it++) {
      byte[] in = randomStream(r);
      Utf8Stream s = new Utf8Stream();
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < in.length; i++) {
        sb.append(s.push(in[i] & 0xFF));
        int held = s.pendingBytes();
        assertTrue(held <= 3 && held <= i + 1);
        int done = i + 1 - held;
        assertEquals(new String(in, 0, done, UTF_8), sb.toString());
        if (held > 0 && !hasSurrogatePrefix(Arrays.copyOfRange(in, done, i + 1))) {
          // (A held ED A0..BF waits for the byte that decides whether its U+FFFD covers it.)
          assertTrue(
              completable(Arrays.copyOfRange(in, done, i + 1)),
              () -> "held bytes cannot form a character: " + Arrays.toString(in));
        }
      }
    }
  }

  /**
   * Whether some continuation bytes turn {@code prefix} into exactly one valid character. Only the
   * second byte's range depends on the lead, so repeating one continuation value c is enough.
   */
  private static boolean completable(byte[] prefix) {
    for (int extra = 1; extra + prefix.length <= 4; extra++) {
      for (int c = 0x80; c < 0xC0; c++) {
        byte[] t = Arrays.copyOf(prefix, prefix.length + extra);
        Arrays.fill(t, prefix.length, t.length, (byte) c);
        String s = new String(t, UTF_8);
        if (!s.contains(R) && s.codePointCount(0, s.length()) == 1) return true;
      }
    }
    return false;
  }
}
