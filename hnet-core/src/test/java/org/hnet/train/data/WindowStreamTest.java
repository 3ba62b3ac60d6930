package org.hnet.train.data;

import static org.hnet.train.data.TestCorpora.packed;
import static org.hnet.train.data.TestCorpora.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random sampling: i.i.d. windows of the whole train part, through the documents' index. */
class WindowStreamTest {
  @TempDir Path dir;

  /** 40 documents of varied lengths (one empty), sorted: like a corpus of addresses by date. */
  private Path tree() throws IOException {
    for (int i = 0; i < 40; i++) {
      write(
          dir.resolve("tree").resolve(String.format("%03d.txt", i)),
          i == 5 ? new byte[0] : TestCorpora.text(30 + 41 * i, i));
    }
    return dir.resolve("tree");
  }

  /** The same documents as JSONL lines (escapes and non-ASCII text included). */
  private Path jsonl() throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      String t =
          new String(TestCorpora.text(30 + 41 * i, i), StandardCharsets.ISO_8859_1)
              .replace("\n", "\\n");
      sb.append("{\"id\": ")
          .append(i)
          .append(", \"text\": \"")
          .append(t)
          .append(i % 3 == 0 ? " \\u00e9t\u00e9 \\\"q\\\"" : "")
          .append("\"}\n");
      if (i % 9 == 4) sb.append("   \n"); // blank lines are not documents
    }
    return write(dir.resolve("docs.jsonl"), sb.toString());
  }

  /** Row r of a batch as bytes. */
  private static byte[] row(Batch b, int r) {
    byte[] out = new byte[b.L()];
    for (int k = 0; k < b.L(); k++) out[k] = (byte) b.tokens()[r * b.L() + k];
    return out;
  }

  /** The reference: L bytes of the train part from s, wrapping to its start. */
  private static byte[] window(byte[] train, long s, int L) {
    byte[] out = new byte[L];
    for (int k = 0; k < L; k++) out[k] = train[(int) ((s + k) % train.length)];
    return out;
  }

  private void everyRowIsTheWindowAtItsDrawnStart(Path corpus, DocSource reference) {
    int L = 96;
    try (Corpus c = Corpus.open(corpus, 0.1, "text")) {
      assertTrue(c.randomAccess());
      byte[] train = Arrays.copyOf(packed(reference), (int) c.trainBytes());
      try (BatchStream s = c.train(3, L, 11L)) {
        assertInstanceOf(WindowStream.class, s);
        for (int i = 0; i < 200; i++) {
          Batch b = s.next();
          for (int r = 0; r < b.B(); r++) {
            long start = WindowStream.start(11L, 3L * i + r, train.length);
            assertArrayEquals(window(train, start, L), row(b, r), "row " + (3 * i + r));
          }
        }
        assertEquals(DataState.random(11L, 600, L, train.length), s.state());
      }
    }
  }

  @Test
  void treeRowsAreWindowsOfThePackedTrainPart() throws IOException {
    Path p = tree();
    everyRowIsTheWindowAtItsDrawnStart(p, FileSource.directory(p));
  }

  @Test
  void jsonlRowsAreWindowsOfThePackedTrainPart() throws IOException {
    Path p = jsonl();
    everyRowIsTheWindowAtItsDrawnStart(p, new JsonlSource(p, "text"));
  }

  @Test
  void singleFileRowsAreWindowsOfThePackedTrainPart() throws IOException {
    Path p = write(dir.resolve("one.txt"), TestCorpora.text(5000, 3));
    everyRowIsTheWindowAtItsDrawnStart(p, FileSource.single(p));
  }

  /** A sorted corpus: the first batches already draw from all of it, every tenth about equally. */
  @Test
  void rowsComeFromTheWholeTrainPartNotItsBeginning() throws IOException {
    Path p = tree();
    try (Corpus c = Corpus.open(p, 0.1);
        BatchStream s = c.train(8, 64, 7L)) {
      long n = c.trainBytes();
      int[] tenths = new int[10];
      int rows = 4000;
      for (int i = 0; i < rows; i++) tenths[(int) (10 * WindowStream.start(7L, i, n) / n)]++;
      for (int k = 0; k < 10; k++) {
        assertTrue(
            tenths[k] > rows / 10 * 0.8 && tenths[k] < rows / 10 * 1.2,
            "tenth " + k + ": " + Arrays.toString(tenths));
      }
      double first = 0;
      for (int i = 0; i < 8; i++) first += WindowStream.start(7L, i, n);
      assertTrue(
          first / 8 > 0.2 * n && first / 8 < 0.8 * n,
          "the first batch's rows start on average at " + first / 8 + " of " + n);
      s.next();
    }
  }

  @Test
  void resumeContinuesExactlyWhateverTheCutAndBatchSize() throws IOException {
    Path p = jsonl();
    Path cache = dir.resolve("idx.bin");
    List<byte[]> straight = new ArrayList<>();
    try (Corpus c = Corpus.open(p, 0.1, "text", cache);
        BatchStream s = c.train(5, 40, 9L)) {
      for (int i = 0; i < 30; i++) {
        Batch b = s.next();
        for (int r = 0; r < 5; r++) straight.add(row(b, r));
      }
    }
    for (int cutAfter : new int[] {0, 1, 7, 29}) {
      DataState saved;
      try (Corpus c = Corpus.open(p, 0.1, "text", cache);
          BatchStream s = c.train(5, 40, 9L)) {
        for (int i = 0; i < cutAfter; i++) s.next();
        saved = DataState.fromJson(s.state().toJson());
      }
      try (Corpus c = Corpus.open(p, 0.1, "text", cache);
          BatchStream s = c.train(3, 40, saved)) {
        for (int r = 5 * cutAfter; r + 3 <= straight.size(); r += 3) {
          Batch b = s.next();
          for (int k = 0; k < 3; k++)
            assertArrayEquals(
                straight.get(r + k), row(b, k), "row " + (r + k) + " after " + cutAfter);
        }
      }
    }
  }

  @Test
  void seedsDrawDifferentRows() throws IOException {
    Path p = tree();
    try (Corpus c = Corpus.open(p, 0.1);
        BatchStream a = c.train(4, 32, 1L);
        BatchStream b = c.train(4, 32, 2L)) {
      assertFalse(Arrays.equals(a.next().tokens(), b.next().tokens()));
    }
  }

  /**
   * Windows wrap at the part's end onto its first byte, a BOS: a new segment, nothing predicted
   * across.
   */
  @Test
  void aPartShorterThanARowWraps() throws IOException {
    Path f = write(dir.resolve("tiny.txt"), "abc\n");
    try (Corpus c = Corpus.open(f, 0);
        BatchStream s = c.train(2, 12, 5L)) {
      Batch b = s.next();
      String r0 = new String(row(b, 0), StandardCharsets.ISO_8859_1);
      assertTrue(("\u00feabc\n".repeat(4)).contains(r0), r0);
      for (int p = 0; p < b.B() * b.L(); p++)
        assertNotEquals(254, b.targets()[p], "BOS predicted at " + p);
    }
  }

  /** The index finds the same split as reading the stream: a plain and a gzipped copy agree. */
  @Test
  void theIndexSplitsAsTheStreamDoes() throws IOException {
    Path tree = tree();
    Path gz = dir.resolve("gz");
    for (String name : tree.toFile().list()) {
      write(gz.resolve(name + ".gz"), Files.readAllBytes(tree.resolve(name)));
    }
    byte[] oneDoc = TestCorpora.text(20_000, 8);
    Path one = write(dir.resolve("one.txt"), oneDoc),
        oneGz = write(dir.resolve("one.txt.gz"), oneDoc);
    for (double f : new double[] {0.05, 0.1, 0.3, 0.5}) {
      for (Path[] pair : new Path[][] {{tree, gz}, {one, oneGz}}) {
        try (Corpus a = Corpus.open(pair[0], f);
            Corpus b = Corpus.open(pair[1], f)) {
          assertTrue(a.randomAccess());
          assertFalse(b.randomAccess());
          assertEquals(b.trainBytes(), a.trainBytes(), pair[0] + " at " + f);
          assertEquals(b.evalBytes(), a.evalBytes(), pair[0] + " at " + f);
        }
      }
    }
  }

  /**
   * Gzip cannot be read at random positions: a large shuffle buffer read in order, and a reason
   * naming the file.
   */
  @Test
  void gzipFallsBackToALargeShuffleBuffer() throws IOException {
    Path d = dir.resolve("mixed");
    write(d.resolve("a.txt"), TestCorpora.text(3000, 1));
    write(d.resolve("b.txt.gz"), TestCorpora.text(3000, 2));
    try (Corpus c = Corpus.open(d, 0.1)) {
      assertFalse(c.randomAccess());
      assertTrue(c.whyNoRandomAccess().contains("b.txt.gz"), c.whyNoRandomAccess());
      try (BatchStream s = c.train(2, 64, 3L)) {
        DataState st = s.state();
        assertEquals(Sampling.SEQUENTIAL, st.sampling());
        assertEquals(Corpus.SHUFFLE_BUFFER_BYTES / 64, st.blockRows());
      }
      DataState random = DataState.random(3L, 0, 64, c.trainBytes());
      HNetException e = assertThrows(HNetException.class, () -> c.train(2, 64, random));
      assertTrue(e.getMessage().contains("b.txt.gz"), e.getMessage());
    }
    try (Corpus c = Corpus.open(tree(), 0.1)) {
      assertNull(c.whyNoRandomAccess());
    }
  }

  @Test
  void sequentialSamplingIsTheBlockShuffle() throws IOException {
    Path p = tree();
    try (Corpus c = Corpus.open(p, 0.1);
        BatchStream s = c.train(2, 32, 4L, Sampling.SEQUENTIAL)) {
      assertInstanceOf(TrainStream.class, s);
      assertEquals(Corpus.DEFAULT_BLOCK_ROWS, s.state().blockRows());
    }
  }

  /**
   * The JSONL index is written once, used while the file is unchanged, rebuilt when it changes or
   * is damaged.
   */
  @Test
  void theJsonlIndexIsCachedAndCheckedAgainstTheFile() throws IOException {
    Path p = jsonl();
    Path cache = dir.resolve("run/data-index.bin");
    Files.createDirectories(cache.getParent());
    long docs;
    try (Corpus c = Corpus.open(p, 0.1, "text", cache)) {
      docs = c.documents();
    }
    assertTrue(Files.size(cache) > 16 * docs);
    byte[] saved = Files.readAllBytes(cache);
    FileTime cached = Files.getLastModifiedTime(cache);
    try (Corpus c = Corpus.open(p, 0.1, "text", cache)) {
      assertEquals(docs, c.documents());
    }
    assertArrayEquals(saved, Files.readAllBytes(cache));
    assertEquals(
        cached,
        Files.getLastModifiedTime(cache),
        "an index that matches is read, not written again");

    // another field: another index
    try (Corpus c = Corpus.open(p, 0.1, "id", cache)) {
      fail("the id field is a number, not a string");
    } catch (HNetException e) {
      assertTrue(e.getMessage().contains("no string field 'id'"), e.getMessage());
    }

    Files.writeString(
        p, "{\"text\": \"one more document\"}\n", java.nio.file.StandardOpenOption.APPEND);
    try (Corpus c = Corpus.open(p, 0.1, "text", cache)) {
      assertEquals(docs + 1, c.documents(), "the file grew: the index is rebuilt");
    }
    Files.write(cache, new byte[] {1, 2, 3});
    try (Corpus c = Corpus.open(p, 0.1, "text", cache);
        BatchStream s = c.train(2, 32, 1L)) {
      assertEquals(docs + 1, c.documents(), "a damaged index is rebuilt");
      s.next();
    }
  }

  private static void fail(String message) {
    throw new AssertionError(message);
  }

  /** A file that shrinks under the stream is an error naming it, not garbage rows. */
  @Test
  void aFileThatShrankIsNamed() throws IOException {
    Path p = write(dir.resolve("shrinks.txt"), TestCorpora.text(5000, 4));
    try (Corpus c = Corpus.open(p, 0.1);
        BatchStream s = c.train(4, 512, 2L)) {
      Files.write(p, TestCorpora.text(100, 4));
      HNetException e =
          assertThrows(
              HNetException.class,
              () -> {
                for (int i = 0; i < 20; i++) s.next();
              });
      assertTrue(e.getMessage().contains("shrinks.txt"), e.getMessage());
    }
  }
}
