package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;

class ChunkHtmlTest {

  /** The text panel's content with tags removed and entities decoded. */
  static String visibleText(String html) {
    int start = html.indexOf("<div class=\"text\" id=\"text\">");
    int end = html.indexOf("</div>", start);
    String inner = html.substring(html.indexOf('>', start) + 1, end);
    return inner
        .replaceAll("<[^>]*>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
  }

  static int count(String html, String needle) {
    Matcher m = Pattern.compile(Pattern.quote(needle)).matcher(html);
    int c = 0;
    while (m.find()) c++;
    return c;
  }

  static int trues(boolean[] b) {
    int c = 0;
    for (boolean x : b) if (x) c++;
    return c;
  }

  @Test
  void escapesAndKeepsEveryCharacter() {
    String s = "<script>alert('x & y')</script> \"quoted\"\n\tnext line — done";
    ExampleChunking ex = new ExampleChunking(s, 1);
    String html = ChunkHtml.render("<b>title</b>", ex.text, ex.boundaries, ex.probs, null);
    assertFalse(html.contains("<script>alert"));
    assertFalse(html.contains("<b>title"));
    assertTrue(html.contains("&lt;b&gt;title&lt;/b&gt;"));
    assertEquals(1, count(html, "<script")); // only the page's own tooltip script
    assertEquals(s, visibleText(html));
  }

  @Test
  void oneElementPerChunkPerStage() {
    ExampleChunking ex = new ExampleChunking(ExampleChunking.TEXT, 7);
    String html = ChunkHtml.render("t", ex.text, ex.boundaries, ex.probs, null);
    assertEquals(trues(ex.boundaries.get(0)), count(html, "class=\"k k0 "));
    assertEquals(trues(ex.boundaries.get(1)), count(html, "class=\"k k1 "));
    assertEquals(ExampleChunking.TEXT, visibleText(html));
    // Every byte of the text is in the page (tags stripped, entities decoded).
    assertTrue(html.contains("Canyon—"));
  }

  @Test
  void selfContained() {
    ExampleChunking ex = new ExampleChunking(ExampleChunking.TEXT, 7);
    String html = ChunkHtml.render("t", ex.text, ex.boundaries, ex.probs, null);
    String lower = html.toLowerCase(java.util.Locale.ROOT);
    assertFalse(lower.contains("http"), "network reference in page");
    assertFalse(lower.contains("src="));
    assertFalse(lower.contains("@import"));
    assertFalse(lower.contains("url("));
    assertFalse(lower.contains("<link"));
    assertTrue(lower.contains("<svg"));
    assertTrue(html.contains("random baseline"));
  }

  /* A boundary inside the em dash: the dash stays whole in the chunk of its first byte and the
   * chunk that starts inside it is rendered, empty. */
  @Test
  void boundaryInsideMultiByteCharacter() {
    byte[] text = "a—b".getBytes(StandardCharsets.UTF_8); // a0 —1,2,3 b4
    boolean[] b0 = {true, true, true, false, true};
    boolean[] b1 = {true, false, false, false, true};
    String html = ChunkHtml.render("t", text, List.of(b0, b1), null, null);
    assertEquals("a—b", visibleText(html));
    assertEquals(4, count(html, "class=\"k k0 "));
    assertEquals(2, count(html, "class=\"k k1 "));
    assertEquals(1, count(html, " e\" data-n=")); // the chunk starting at byte 2
    assertTrue(html.contains("data-i=\"1\" data-l=\"3\">—</i>"));
  }

  @Test
  void probabilitiesAreEmbeddedWithNanAsNull() {
    byte[] text = "ab c".getBytes(StandardCharsets.UTF_8);
    boolean[] b0 = {true, false, true, true};
    boolean[] b1 = {true, false, false, true};
    float[] p0 = {1f, 0.1234f, 0.9f, 0.75f};
    float[] p1 = {1f, Float.NaN, 0.2f, 0.6f};
    String html = ChunkHtml.render("t", text, List.of(b0, b1), List.of(p0, p1), null);
    assertTrue(html.contains("const P=[[1,0.123,0.900,0.750],[1,null,0.200,0.600]];"), html);
    String none = ChunkHtml.render("t", text, List.of(b0), null, null);
    assertTrue(none.contains("const P=[null];"));
    assertThrows(
        HNetException.class,
        () -> ChunkHtml.render("t", text, List.of(b0), List.of(new float[3]), null));
  }

  @Test
  void cjkPageSaysAlignmentNotComputed() {
    byte[] text = "東京は日本の首都です。".getBytes(StandardCharsets.UTF_8);
    boolean[] b0 = new boolean[text.length];
    for (int t = 0; t < text.length; t += 3) b0[t] = true;
    String html = ChunkHtml.render("t", text, List.of(b0), null, null);
    assertTrue(html.contains("Word alignment not computed"));
    assertEquals("東京は日本の首都です。", visibleText(html));
  }

  @Test
  void emptyTextAndMalformedBytes() {
    String empty = ChunkHtml.render("t", new byte[0], List.of(new boolean[0]), null, null);
    assertEquals("", visibleText(empty));
    byte[] bad = {'a', (byte) 0xff, 'b'};
    boolean[] b0 = new boolean[3];
    Arrays.fill(b0, true);
    assertEquals("a\uFFFDb", visibleText(ChunkHtml.render("t", bad, List.of(b0), null, null)));
  }
}
