package org.hnet.train.data;

import static org.hnet.train.data.TestCorpora.packed;
import static org.hnet.train.data.TestCorpora.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainStreamTest {
  @TempDir Path dir;

  /** A directory of documents of varied lengths, some gzipped. */
  private Path corpus() throws IOException {
    for (int i = 0; i < 30; i++) {
      String name = String.format("f%02d.txt", i) + (i % 7 == 3 ? ".gz" : "");
      write(dir.resolve("c").resolve(name), TestCorpora.text(50 + 37 * i, i));
    }
    return dir.resolve("c");
  }

  /** Row i of the reference: bytes [iL, iL+L) of the train part, wrapping around. */
  private static String row(byte[] train, int i, int L) {
    StringBuilder s = new StringBuilder();
    for (int k = 0; k < L; k++)
      s.append((char) (train[(int) (((long) i * L + k) % train.length)] & 0xFF));
    return s.toString();
  }

  private static String row(Batch b, int r) {
    StringBuilder s = new StringBuilder();
    for (int k = 0; k < b.L(); k++) s.append((char) b.tokens()[r * b.L() + k]);
    return s.toString();
  }

  private static List<String> rows(BatchStream s, int batches) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      Batch b = s.next();
      for (int r = 0; r < b.B(); r++) out.add(row(b, r));
    }
    return out;
  }

  @Test
  void everyRowAppearsOncePerEpochAndBatchesAreWellFormed() throws IOException {
    Path p = corpus();
    int L = 64;
    int K = 8;
    try (Corpus c = Corpus.open(p, 0.1)) {
      byte[] train = Arrays.copyOf(packed(FileSource.directory(p)), (int) c.trainBytes());
      int R = (train.length + L - 1) / L;
      Map<String, Integer> expected = new HashMap<>();
      for (int i = 0; i < R; i++) expected.merge(row(train, i, L), 1, Integer::sum);
      try (BatchStream s = c.train(3, L, 42L, K)) {
        List<String> got = new ArrayList<>();
        for (int epoch = 0; epoch < 3; epoch++) {
          while (got.size() < (epoch + 1) * R) {
            Batch b = s.next();
            checkWellFormed(b);
            for (int r = 0; r < b.B(); r++) got.add(row(b, r));
          }
          Map<String, Integer> seen = new HashMap<>();
          for (String r : got.subList(epoch * R, (epoch + 1) * R)) seen.merge(r, 1, Integer::sum);
          assertEquals(expected, seen, "epoch " + epoch);
          // Shuffling stays within blocks of K rows: emitted row j comes from block j / K.
          for (int j = 0; j < R; j++) {
            String r = got.get(epoch * R + j);
            boolean inBlock = false;
            for (int i = (j / K) * K; i < Math.min(R, (j / K + 1) * K); i++) {
              inBlock |= row(train, i, L).equals(r);
            }
            assertTrue(inBlock, "row " + j);
          }
        }
        assertNotEquals(got.subList(0, R), got.subList(R, 2 * R), "each epoch reshuffles");
      }
    }
  }

  private static void checkWellFormed(Batch b) {
    int n = b.B() * b.L();
    int[] cu = b.cuSeqlens();
    assertEquals(0, cu[0]);
    assertEquals(n, cu[cu.length - 1]);
    boolean[] start = new boolean[n + 1];
    for (int i = 0; i + 1 < cu.length; i++) {
      assertTrue(cu[i] < cu[i + 1]);
      start[cu[i]] = true;
    }
    start[n] = true;
    for (int p = 0; p < n; p++) {
      int t = b.tokens()[p];
      assertTrue(t >= 0 && t < 256);
      assertEquals(p % b.L() == 0 || t == 254, start[p], "segment start at " + p);
      assertEquals(start[p + 1] ? -1 : b.tokens()[p + 1], b.targets()[p], "target at " + p);
      if (b.targets()[p] == 254) throw new AssertionError("BOS predicted at " + p);
    }
  }

  @Test
  void sameSeedSameBatchesOtherSeedOtherOrder() throws IOException {
    Path p = corpus();
    try (Corpus c = Corpus.open(p, 0.1)) {
      List<String> a = rows(c.train(4, 32, 1L, 16), 20);
      List<String> b = rows(c.train(4, 32, 1L, 16), 20);
      List<String> d = rows(c.train(4, 32, 2L, 16), 20);
      assertEquals(a, b);
      assertNotEquals(a, d);
      List<String> sa = new ArrayList<>(a.subList(0, 16));
      List<String> sd = new ArrayList<>(d.subList(0, 16));
      sa.sort(null);
      sd.sort(null);
      assertEquals(sa, sd, "the first block holds the same rows in another order");
    }
  }

  @Test
  void resumeContinuesExactlyAsAnUninterruptedRun() throws IOException {
    Path p = corpus();
    try (Corpus c = Corpus.open(p, 0.1)) {
      // 5 rows per batch across blocks of 7 rows and epoch ends: cover many cut points.
      List<String> straight = rows(c.train(5, 48, 9L, 7), 60);
      for (int n : new int[] {0, 1, 3, 11, 17, 40}) {
        DataState saved;
        List<String> first;
        try (BatchStream s = c.train(5, 48, 9L, 7)) {
          first = rows(s, n);
          saved = s.state();
        }
        String json = saved.toJson();
        DataState back = DataState.fromJson(json);
        assertEquals(saved, back);
        try (Corpus reopened = Corpus.open(p, 0.1);
            BatchStream s = reopened.train(5, 48, back)) {
          List<String> all = new ArrayList<>(first);
          all.addAll(rows(s, 60 - n));
          assertEquals(straight, all, "resumed after " + n + " batches (" + json + ")");
        }
      }
      // Rows, not batches, are the unit: a different B continues the same row sequence.
      try (BatchStream s = c.train(5, 48, 9L, 7)) {
        rows(s, 4);
        try (BatchStream t = c.train(2, 48, s.state())) {
          assertEquals(straight.subList(20, 40), rows(t, 10));
        }
      }
    }
  }

  @Test
  void resumeRejectsAStateFromAnotherLayout() throws IOException {
    Path p = corpus();
    try (Corpus c = Corpus.open(p, 0.1);
        Corpus other = Corpus.open(p, 0.2)) {
      for (Sampling m : Sampling.values()) {
        DataState s = c.train(2, 16, 1L, m).state();
        // the corpus has gzip files: random sampling falls back to a large shuffle block
        assertEquals(Sampling.SEQUENTIAL, s.sampling());
        assertEquals(
            m == Sampling.RANDOM ? Corpus.SHUFFLE_BUFFER_BYTES / 16 : Corpus.DEFAULT_BLOCK_ROWS,
            s.blockRows());
        assertThrows(HNetException.class, () -> c.train(2, 32, s));
        assertThrows(HNetException.class, () -> other.train(2, 16, s));
      }
      assertThrows(HNetException.class, () -> DataState.fromJson("{\"seed\":1}"));
      assertThrows(HNetException.class, () -> DataState.fromJson("nope"));
    }
  }

  @Test
  void corpusShorterThanARowRepeats() throws IOException {
    Path f = write(dir.resolve("tiny.txt"), "abc\n");
    try (Corpus c = Corpus.open(f, 0);
        BatchStream s = c.train(2, 12, 5L, Sampling.SEQUENTIAL)) {
      Batch b = s.next();
      assertEquals("\u00feabc\n\u00feabc\n\u00fea", row(b, 0));
      assertEquals(row(b, 0), row(b, 1), "one row per epoch");
      checkWellFormed(b);
      assertEquals(
          new DataState(Sampling.SEQUENTIAL, 5, 2, 0, 12, Corpus.DEFAULT_BLOCK_ROWS, 5), s.state());
    }
  }

  /**
   * A corpus of several MB (gzipped, so it can only be read sequentially) with blocks of 4 rows:
   * the stream holds one block, not the corpus, and every row is still exactly the reference.
   */
  @Test
  void streamsACorpusMuchLargerThanTheShuffleBuffer() throws IOException {
    Path f = dir.resolve("big.txt.gz");
    byte[] text = TestCorpora.text(6 << 20, 99);
    try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(f), 1 << 16)) {
      os.write(text);
    }
    int L = 256;
    int K = 4;
    try (Corpus c = Corpus.open(f, 0.01)) {
      long n = c.trainBytes();
      byte[] train = new byte[(int) n];
      train[0] = (byte) 254;
      System.arraycopy(text, 0, train, 1, (int) n - 1);
      int R = (int) ((n + L - 1) / L);
      TrainStream s = (TrainStream) c.train(8, L, 3L, K);
      assertEquals(R, s.rowsPerEpoch());
      // Sample the epoch: every emitted row must be a row of its block.
      for (int j = 0; j < R; j += 8) {
        Batch b = s.next();
        for (int r = 0; r < b.B() && j + r < R; r++) {
          int blk = (j + r) / K;
          boolean found = false;
          for (int i = blk * K; i < Math.min(R, blk * K + K) && !found; i++) {
            found = row(train, i, L).equals(row(b, r));
          }
          assertTrue(found, "row " + (j + r));
        }
        assertTrue(s.bufferedBytes() <= 2 * K * L + 8 * L, "held " + s.bufferedBytes());
      }
      assertFalse(s.state().epoch() > 1);
    }
  }
}
