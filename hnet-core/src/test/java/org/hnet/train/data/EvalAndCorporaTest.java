package org.hnet.train.data;

import static org.hnet.train.data.TestCorpora.show;
import static org.hnet.train.data.TestCorpora.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvalAndCorporaTest {
  @TempDir Path dir;

  @Test
  void evalIsOnePassInOrderWithAPaddedLastRow() throws IOException {
    // 10 documents "^doc:N|" of 7 bytes: 70 bytes; hold out 30% = the last 3 documents, 21 bytes.
    for (int i = 0; i < 10; i++) write(dir.resolve("d/" + i), "doc:" + i + "|");
    try (Corpus c = Corpus.open(dir.resolve("d"), 0.3)) {
      assertEquals(49, c.trainBytes());
      assertEquals(21, c.evalBytes());
      List<Batch> batches = new ArrayList<>();
      c.eval(2, 8).forEach(batches::add);
      assertEquals(2, batches.size());
      Batch a = batches.get(0);
      Batch b = batches.get(1);
      assertEquals(2, a.B());
      assertEquals(1, b.B(), "the last batch has only the rows left");
      assertEquals("^doc:7|^doc:8|^d", show(a.tokens(), 0, 16));
      assertEquals("oc:9|", show(b.tokens(), 0, 5));
      assertArrayEquals(new int[] {'c', ':', '9', '|', -1, -1, -1, -1}, b.targets());
      assertArrayEquals(new int[] {0, 5, 8}, b.cuSeqlens());
      assertEquals(4, b.predicted());
      // A second pass gives the same batches.
      List<Batch> again = new ArrayList<>();
      c.eval(2, 8).forEach(again::add);
      assertArrayEquals(a.tokens(), again.get(0).tokens());
      assertArrayEquals(b.targets(), again.get(1).targets());
    }
  }

  @Test
  void noEvalPartMeansNoEvalBatches() throws IOException {
    Path f = write(dir.resolve("t.txt"), "some text\n");
    try (Corpus c = Corpus.open(f, 0)) {
      assertFalse(c.eval(4, 4).iterator().hasNext());
    }
  }

  @Test
  void resourceIsMaterialisedDecompressedAndDeletedWithTheCorpus() throws IOException {
    byte[] text = TestCorpora.text(100_000, 5);
    write(dir.resolve("cp/org/x/book.txt.gz"), text);
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {dir.resolve("cp").toUri().toURL()}, null)) {
      try (InputStream in = Corpora.openResource(loader, "org/x/book.txt.gz")) {
        assertArrayEquals(text, in.readAllBytes());
      }
      Path out = Corpora.materialize(loader, "org/x/book.txt.gz", dir.resolve("out"));
      assertEquals("book.txt", out.getFileName().toString());
      assertArrayEquals(text, Files.readAllBytes(out));
      Path temp;
      try (Corpus c = Corpora.openResource(loader, "org/x/book.txt.gz", 0.1)) {
        assertEquals(text.length + 2, c.trainBytes() + c.evalBytes(), "two BOS after the cut");
        temp = Path.of(c.toString().substring(0, c.toString().indexOf(": ")));
        assertTrue(Files.exists(temp));
      }
      assertFalse(Files.exists(temp), "temp copy deleted on close");
      HNetException e =
          assertThrows(HNetException.class, () -> Corpora.openResource(loader, "org/x/none.gz"));
      assertTrue(e.getMessage().startsWith("org/x/none.gz: "), e.getMessage());
    }
  }
}
