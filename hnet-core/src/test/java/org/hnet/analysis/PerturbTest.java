package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import org.hnet.HNetException;
import org.hnet.analysis.Perturb.Kind;
import org.junit.jupiter.api.Test;

class PerturbTest {

  /** About 60 KB of mixed-script text with 1- to 4-byte characters and all kinds of whitespace. */
  private static final byte[] LONG =
      ("The quick brown fox — naïve café — jumps over 13 lazy dogs.\tΚαλημέρα κόσμε! "
              + "Съешь же ещё этих мягких французских булок.\n東京は日本の首都です。😀🚀 ok?\r\n")
          .repeat(300)
          .getBytes(StandardCharsets.UTF_8);

  private static String strict(byte[] b) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(b))
        .toString();
  }

  @Test
  void rateZeroIsIdentity() {
    for (Kind k : Kind.values()) {
      Perturb.Result r = Perturb.perturb(LONG, k, 0, 42);
      assertArrayEquals(LONG, r.text(), k.name());
      assertEquals(0, r.changed());
    }
  }

  @Test
  void deterministicForASeed() {
    for (Kind k : Kind.values()) {
      assertArrayEquals(Perturb.apply(LONG, k, 0.1, 7), Perturb.apply(LONG, k, 0.1, 7), k.name());
      assertFalse(
          java.util.Arrays.equals(Perturb.apply(LONG, k, 0.1, 7), Perturb.apply(LONG, k, 0.1, 8)),
          k.name());
    }
  }

  /* The realised rate is Binomial(eligible, rate)/eligible: within 4 standard errors. */
  @Test
  void realisedRateMatchesStatedRate() {
    for (Kind k : Kind.values()) {
      for (double rate : new double[] {0.02, 0.1, 0.5}) {
        Perturb.Result r = Perturb.perturb(LONG, k, rate, 1234);
        double se = Math.sqrt(rate * (1 - rate) / r.eligible());
        assertTrue(r.eligible() > 1000, k + " eligible " + r.eligible());
        assertEquals(rate, r.measuredRate(), 4 * se, k + " at " + rate);
        assertEquals(r.measuredRate(), Perturb.measuredRate(LONG, k, rate, 1234));
      }
    }
  }

  /* The counts agree with what can be seen in the output text itself. */
  @Test
  void countsMatchTheOutputText() throws Exception {
    String in = strict(LONG);
    int chars = in.codePointCount(0, in.length());
    Perturb.Result del = Perturb.perturb(LONG, Kind.DELETE, 0.2, 3);
    String d = strict(del.text());
    assertEquals(chars - del.changed(), d.codePointCount(0, d.length()));
    Perturb.Result rep = Perturb.perturb(LONG, Kind.REPEAT, 0.2, 3);
    String r = strict(rep.text());
    assertEquals(chars + rep.changed(), r.codePointCount(0, r.length()));
    Perturb.Result ns = Perturb.perturb(LONG, Kind.NOSPACE, 0.3, 3);
    assertEquals(LONG.length - ns.changed(), ns.text().length);
    Perturb.Result cs = Perturb.perturb(LONG, Kind.CASE, 0.3, 3);
    int flipped = 0;
    for (int i = 0; i < LONG.length; i++) if (LONG[i] != cs.text()[i]) flipped++;
    assertEquals(cs.changed(), flipped);
    assertEquals(
        new String(LONG, StandardCharsets.UTF_8).toLowerCase(java.util.Locale.ROOT),
        strict(cs.text()).toLowerCase(java.util.Locale.ROOT));
    // Rate 1 removes every ASCII whitespace character and nothing else.
    String all = strict(Perturb.apply(LONG, Kind.NOSPACE, 1, 3));
    assertEquals(in.replaceAll("[ \\t\\n\\u000b\\f\\r]", ""), all);
  }

  @Test
  void neverBreaksUtf8() throws Exception {
    for (Kind k : Kind.values()) {
      for (long seed = 0; seed < 5; seed++) {
        String out = strict(Perturb.apply(LONG, k, 0.5, seed));
        assertFalse(out.contains("\uFFFD"), k.name());
      }
    }
  }

  @Test
  void swapIsNonOverlappingLeftToRightOnCharacters() {
    byte[] in = "abcdé😀x".getBytes(StandardCharsets.UTF_8);
    Perturb.Result r = Perturb.perturb(in, Kind.SWAP, 1, 0);
    assertEquals("badc😀éx", new String(r.text(), StandardCharsets.UTF_8));
    assertEquals(3, r.eligible()); // pairs (a,b), (c,d), (é,😀); x has no partner
    assertEquals(
        "aabb",
        new String(
            Perturb.apply("ab".getBytes(StandardCharsets.UTF_8), Kind.REPEAT, 1, 0),
            StandardCharsets.UTF_8));
    assertEquals(
        "ÉtÉ",
        new String(
            Perturb.apply("ÉTÉ".getBytes(StandardCharsets.UTF_8), Kind.CASE, 1, 0),
            StandardCharsets.UTF_8)); // only ASCII letters flip
  }

  @Test
  void malformedBytesAreKeptAsOneByteCharacters() {
    byte[] in = {'a', (byte) 0xff, 'b', (byte) 0xe2, (byte) 0x80};
    assertEquals(5, Perturb.perturb(in, Kind.DELETE, 0.5, 1).eligible());
    assertArrayEquals(in, Perturb.apply(in, Kind.NOSPACE, 1, 1));
  }

  @Test
  void parseKinds() {
    assertEquals(Kind.CASE, Kind.parse("case"));
    assertEquals(Kind.NOSPACE, Kind.parse(" No-Space "));
    assertEquals(Kind.SWAP, Kind.parse("SWAP"));
    HNetException e = assertThrows(HNetException.class, () -> Kind.parse("shuffle"));
    assertTrue(e.getMessage().contains("case, delete, repeat, swap, nospace"), e.getMessage());
    assertThrows(HNetException.class, () -> Perturb.apply(LONG, Kind.CASE, 1.5, 0));
    assertThrows(HNetException.class, () -> Perturb.apply(LONG, Kind.CASE, Double.NaN, 0));
  }
}
