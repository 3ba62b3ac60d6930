package org.hnet.train.data;

import static org.hnet.train.data.TestCorpora.packed;
import static org.hnet.train.data.TestCorpora.show;
import static org.hnet.train.data.TestCorpora.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitTest {
  @TempDir Path dir;

  /** The eval part as the eval batches give it, padding dropped. */
  static byte[] evalBytes(Corpus c, int L) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    long remaining = c.evalBytes();
    for (Batch b : c.eval(3, L)) {
      int n = (int) Math.min(b.tokens().length, remaining);
      for (int p = 0; p < n; p++) out.write(b.tokens()[p]);
      remaining -= n;
    }
    return out.toByteArray();
  }

  @Test
  void directoryCutsAtTheFirstDocumentStartAfterTheFraction() throws IOException {
    for (int i = 0; i < 20; i++) write(dir.resolve(String.format("d%02d", i)), "doc" + i + "xxxxx");
    // 20 documents of 1 + 9 or 10 bytes.
    try (Corpus c = Corpus.open(dir, 0.1)) {
      byte[] all = packed(FileSource.directory(dir));
      long total = all.length;
      assertEquals(total, c.trainBytes() + c.evalBytes());
      assertTrue(c.trainBytes() >= total - Math.round(0.1 * total));
      assertEquals((byte) 254, all[(int) c.trainBytes()], "cut at a BOS");
      String eval = show(evalBytes(c, 4));
      assertEquals(show(all, (int) c.trainBytes(), (int) c.evalBytes()), eval);
      // Total 210 bytes, fraction point 189 lies inside doc18 (188..198): the cut is at doc19.
      assertTrue(eval.startsWith("^doc19"), eval);
    }
  }

  @Test
  void singleDocumentIsCutAfterANewline() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 100; i++) s.append("line ").append(i).append('\n');
    Path f = write(dir.resolve("t.txt"), s.toString());
    byte[] all = packed(FileSource.single(f));
    try (Corpus c = Corpus.open(f, 0.25)) {
      long cut = c.trainBytes();
      long target = all.length - Math.round(0.25 * all.length);
      assertTrue(cut >= target && cut - target <= 8, cut + " vs " + target);
      assertEquals('\n', all[(int) cut - 1], "train ends with a whole line");
      assertEquals(all.length - cut + 1, c.evalBytes(), "eval gets its own BOS");
      String eval = show(evalBytes(c, 16));
      assertEquals("^" + show(all, (int) cut, all.length - (int) cut), eval);
      assertTrue(eval.startsWith("^line "), eval);
      double fraction = (double) c.evalBytes() / (c.trainBytes() + c.evalBytes());
      assertEquals(0.25, fraction, 0.02);
    }
  }

  @Test
  void lastDocumentWithoutNewlineIsCutAtTheFractionPoint() throws IOException {
    write(dir.resolve("a"), "small");
    write(dir.resolve("b"), "x".repeat(1000));
    try (Corpus c = Corpus.open(dir, 0.1)) {
      long total = 1 + 5 + 1 + 1000;
      assertEquals(total - Math.round(0.1 * total), c.trainBytes());
      assertEquals(total - c.trainBytes() + 1, c.evalBytes());
    }
  }

  @Test
  void longDocumentBeforeTheCutMovesItToTheNextBoundary() throws IOException {
    write(dir.resolve("a"), "y".repeat(1000));
    write(dir.resolve("b"), "tail");
    try (Corpus c = Corpus.open(dir, 0.1)) {
      assertEquals(1001, c.trainBytes(), "the first boundary after the fraction point");
      assertEquals(5, c.evalBytes());
    }
  }

  @Test
  void tooSmallToSplitIsAnError() throws IOException {
    Path f = write(dir.resolve("t.txt"), "ab");
    HNetException e = assertThrows(HNetException.class, () -> Corpus.open(f, 0.1));
    assertTrue(e.getMessage().contains("too small"), e.getMessage());
    assertThrows(HNetException.class, () -> Corpus.open(f, 1.0));
    assertThrows(HNetException.class, () -> Corpus.open(f, -0.1));
  }

  @Test
  void jsonlCutsAtALineAndTrainNeverSeesEvalDocuments() throws IOException {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < 50; i++) s.append("{\"text\":\"doc").append(i).append("!\"}\n");
    Path f = write(dir.resolve("d.jsonl"), s.toString());
    try (Corpus c = Corpus.open(f, 0.2)) {
      String eval = show(evalBytes(c, 8));
      // Total 340 bytes, fraction point 272 lies inside doc40 (270..276): the cut is at doc41.
      assertTrue(eval.startsWith("^doc41!^"), eval);
      assertTrue(eval.endsWith("^doc49!"), eval);
      // A row longer than the train part holds all of it (and wraps onto its start): documents up
      // to 40 only.
      try (BatchStream t = c.train(1, 300, 7)) {
        Batch b = t.next();
        String row = show(b.tokens(), 0, 300);
        assertTrue(row.contains("^doc40!^doc0!^doc1!"), row);
        for (int i = 41; i < 50; i++) assertEquals(-1, row.indexOf("doc" + i), "doc" + i);
      }
    }
  }
}
