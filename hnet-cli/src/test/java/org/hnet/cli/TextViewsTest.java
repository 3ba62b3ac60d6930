package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the terminal views print: whole characters whatever the boundaries, readable colours, and
 * numbers and progress lines a user can read.
 */
class TextViewsTest {
  /** Latin accents, CJK, an emoji with a skin tone, a combining accent, and two malformed bytes. */
  static final byte[] MIXED =
      concat(
          "Call me Ishmael. café 漢字 👍🏽 nai\u0308ve résumé ".getBytes(StandardCharsets.UTF_8),
          new byte[] {(byte) 0xE6, (byte) 0xBC},
          "x".getBytes(StandardCharsets.UTF_8));

  static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) o.writeBytes(p);
    return o.toByteArray();
  }

  /** Strict UTF-8 decoding: fails on any malformed sequence. */
  static String strict(byte[] b) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new AssertionError("not valid UTF-8: " + Arrays.toString(b), e);
    }
  }

  static int[] everyByte(int n) {
    int[] d = new int[n];
    Arrays.fill(d, 1);
    return d;
  }

  @Test
  void aBoundaryInsideACharacterIsMarkedBeforeTheWholeCharacter() {
    String plain = ChunkView.render(MIXED, everyByte(MIXED.length), false);
    strict(plain.getBytes(StandardCharsets.UTF_8));
    // every character whole, the boundaries between its bytes shown as ¦ before it
    for (String whole : List.of("é", "漢", "字", "👍🏽", "i\u0308")) {
      assertTrue(plain.contains("|¦" + whole), whole + " in " + plain);
    }
    // a malformed byte is a character of its own, shown as U+FFFD
    assertTrue(plain.contains("|\uFFFD|\uFFFD|x"), plain);
    // without boundaries inside, no mark
    int[] depth = new int[MIXED.length];
    depth[6] = 1; // before "e" of "me"
    String one = ChunkView.render(MIXED, depth, false);
    assertEquals(
        new String(MIXED, StandardCharsets.UTF_8)
            .replace("me Ish", "m|e Ish")
            .replace("\uFFFD", "\uFFFD\uFFFD"), // one per malformed byte
        one,
        "only the one boundary is marked");
  }

  @Test
  void aSecondStageBoundaryHasItsOwnMark() {
    byte[] t = "ab cd".getBytes(StandardCharsets.UTF_8);
    int[] depth = {1, 0, 1, 2, 0};
    assertEquals("ab| ‖cd", ChunkView.render(t, depth, false));
  }

  @Test
  void coloursSetTheForegroundWithTheBackground() {
    String ansi = ChunkView.render(MIXED, everyByte(MIXED.length), true);
    strict(ansi.getBytes(StandardCharsets.UTF_8));
    // every background comes with black text: readable on dark and light themes
    for (int i = ansi.indexOf("48;5;"); i >= 0; i = ansi.indexOf("48;5;", i + 1)) {
      assertTrue(ansi.substring(Math.max(0, i - 6), i).contains("30;"), ansi);
    }
    assertTrue(ansi.endsWith("\u001b[0m"), "the colours are reset at the end");
  }

  @Test
  void generatedBytesPrintAsWholeCharactersAsTheyCome() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
    ChunkView.Printer p = new ChunkView.Printer(ps, true, false);
    for (byte b : MIXED) p.push(b & 0xff, 1);
    p.finish();
    String s = strict(buf.toByteArray());
    for (String whole : List.of("é", "漢", "👍🏽", "i\u0308"))
      assertTrue(s.contains("¦" + whole), s);
    // the accent combines with its letter: no mark between them
    assertFalse(s.contains("i|\u0308") || s.contains("i¦\u0308"), s);
    // without marks: the text as is
    buf.reset();
    ChunkView.Printer q = new ChunkView.Printer(ps, false, false);
    byte[] ok = "café 漢字".getBytes(StandardCharsets.UTF_8);
    for (byte b : ok) q.push(b & 0xff, 1);
    q.finish();
    assertEquals("café 漢字", strict(buf.toByteArray()));
  }

  @Test
  void numbersReadAsUnits() {
    assertEquals("5.51 bytes/chunk", Numbers.compression(new double[] {5.507226890756303}));
    assertEquals(
        "3.00 bytes/chunk (stage 1), 6.30 bytes/chunk (stage 2)",
        Numbers.compression(new double[] {3, 2.1}));
    assertEquals("2.2351 bits per byte", Numbers.bpb(2.23514));
    assertEquals("–", Numbers.bpb(Double.NaN));
    assertEquals("242 kB", Plots.bytesTick(241664));
    assertEquals("2.4 MB", Plots.bytesTick(2.4e6));
    assertEquals("0 B", Plots.bytesTick(0));
    assertEquals("1.28 kB", Plots.bytesTick(1280));
    assertEquals("1.15 kB", Plots.bytesTick(1150));
    assertEquals("125 B", Plots.bytesTick(125));
    // the ticks of any axis (multiples of 1, 2 or 5 times a power of ten) print distinct labels:
    // XChart's tick search never ends when two of them print the same
    for (double step = 1; step <= 1e12; step *= 10) {
      for (double m : new double[] {1, 2, 5}) {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i <= 20; i++) {
          String label = Plots.bytesTick(i * m * step);
          assertTrue(seen.add(label), "step " + m * step + ": " + label + " twice");
        }
      }
    }
  }

  @Test
  void theProgressLineFitsEightyColumnsWithARealBar() {
    List<String> fields =
        List.of(
            "loss 2.392",
            "held-out 3.381 bpb",
            "train 3.401 bpb",
            "3.91 bytes/chunk",
            "12.7 kB/s",
            "words 0.58 (random 0.43)");
    for (int width : new int[] {80, 100, 160}) {
      String line = Progress.line("train", 180, 400, 100, 30, 30, "", fields, width);
      assertTrue(line.length() < width, width + ": " + line);
      int bar = line.indexOf('\u2502', line.indexOf('\u2502') + 1) - line.indexOf('\u2502') - 1;
      assertTrue(bar >= Progress.MIN_BAR, width + ": bar " + bar);
      assertTrue(line.contains("loss 2.392"), width + ": " + line);
      // the speed of the bar and the message never run together
      assertFalse(line.matches(".*/s[a-z].*"), line);
    }
    // a narrow terminal: the fields go, the line still fits
    assertTrue(Progress.line("train", 180, 400, 100, 30, 30, "", fields, 40).length() < 40);
    String at80 = Progress.line("train", 180, 400, 100, 30, 30, "", fields, 80);
    assertTrue(at80.contains("held-out 3.381 bpb"), at80);
    // rate and time left count only the steps since the bar started (a resume at step 100)
    assertTrue(at80.contains("180/400 0:30<1:23"), at80);
    assertTrue(Progress.line("load", 0, -1, 0, 3, 3, "", List.of(), 80).contains("0:03"));
  }
}
