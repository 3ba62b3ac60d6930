package org.hnet.train.data;

import static org.hnet.train.data.TestCorpora.packed;
import static org.hnet.train.data.TestCorpora.show;
import static org.hnet.train.data.TestCorpora.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SourcesTest {
  @TempDir Path dir;

  @Test
  void singleFileIsOneDocumentAfterBos() throws IOException {
    Path f = write(dir.resolve("a.txt"), "hello\nworld\n");
    assertEquals("^hello\nworld\n", show(packed(FileSource.single(f))));
    try (Corpus c = Corpus.open(f, 0)) {
      assertEquals(13, c.trainBytes());
      assertEquals(0, c.evalBytes());
      assertEquals(1, c.documents());
    }
  }

  @Test
  void gzipIsDecompressedTransparently() throws IOException {
    byte[] text = TestCorpora.text(200_000, 1);
    Path plain = write(dir.resolve("t.txt"), text);
    Path gz = write(dir.resolve("t.txt.gz"), text);
    assertArrayEquals(packed(FileSource.single(plain)), packed(FileSource.single(gz)));
    try (Corpus a = Corpus.open(plain, 0.1);
        Corpus b = Corpus.open(gz, 0.1)) {
      assertEquals(a.trainBytes(), b.trainBytes());
      assertEquals(a.evalBytes(), b.evalBytes());
    }
  }

  @Test
  void directoryIsSortedByRelativePathSkippingHiddenFiles() throws IOException {
    write(dir.resolve("b.txt"), "B");
    write(dir.resolve("a/z.txt"), "AZ");
    write(dir.resolve("a-b.txt"), "A-B"); // '-' sorts before '/', so before "a/z.txt"
    write(dir.resolve("a/c.txt.gz"), "AC");
    write(dir.resolve(".hidden"), "H");
    write(dir.resolve(".git/config"), "G");
    write(dir.resolve("a/.swp"), "S");
    write(dir.resolve("empty"), "");
    FileSource src = FileSource.directory(dir);
    assertEquals("^A-B^AC^AZ^B^", show(packed(src)));
    try (Corpus c = Corpus.open(dir, 0)) {
      assertEquals(5, c.documents());
      assertEquals(13, c.trainBytes());
    }
  }

  @Test
  void emptyDirectoryIsAnError() throws IOException {
    Files.createDirectories(dir.resolve("d/.x"));
    HNetException e = assertThrows(HNetException.class, () -> Corpus.open(dir.resolve("d"), 0));
    assertTrue(e.getMessage().contains("no files"), e.getMessage());
    e = assertThrows(HNetException.class, () -> Corpus.open(dir.resolve("nope"), 0));
    assertTrue(e.getMessage().contains("nope: no such file"), e.getMessage());
  }

  @Test
  void jsonlTakesTheTextFieldOfEachLine() throws IOException {
    Path f =
        write(
            dir.resolve("d.jsonl"),
            "{\"id\":1,\"text\":\"one\",\"meta\":{\"text\":\"no\"}}\n"
                + "\n"
                + "  \r\n"
                + "{\"text\":\"t\\u00e9\\nx\",\"text\":\"dup\"}\r\n"
                + "{\"body\":\"b\",\"text\":\"\"}");
    assertEquals("^one^t\u00c3\u00a9\nx^", show(packed(new JsonlSource(f, "text"))));
    Path g = write(dir.resolve("d.jsonl.gz"), Files.readAllBytes(f));
    assertArrayEquals(packed(new JsonlSource(f, "text")), packed(new JsonlSource(g, "text")));
    Path h = write(dir.resolve("e.jsonl"), "{\"body\":\"xy\",\"text\":1}\n{\"body\":\"z\"}\n");
    try (Corpus c = Corpus.open(h, 0, "body")) {
      assertEquals(5, c.trainBytes());
      assertEquals(2, c.documents());
    }
  }

  @Test
  void jsonlErrorsNameFileAndLine() throws IOException {
    assertJsonlError("{\"text\":\"a\"}\n\n{\"text\":\"b\"\n", ":3: bad JSON");
    assertJsonlError("{\"text\":\"a\"}\n{\"txt\":\"b\"}\n", ":2: no string field 'text'");
    assertJsonlError("{\"text\":7}\n", ":1: no string field 'text'");
    assertJsonlError("[\"text\"]\n", ":1: not a JSON object");
    assertJsonlError("{\"text\":\"a\"} {}\n", ":1: bad JSON");
    assertJsonlError("{\"text\":\"a\"}\n{\"text\":\"a\", oops}\n", ":2: bad JSON");
  }

  private void assertJsonlError(String content, String expected) throws IOException {
    Path f = write(dir.resolve("bad.jsonl"), content);
    HNetException e = assertThrows(HNetException.class, () -> Corpus.open(f, 0));
    assertTrue(e.getMessage().startsWith(f + expected), e.getMessage());
    assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
  }

  @Test
  void corruptGzipNamesTheFile() throws IOException {
    Path f = Files.write(dir.resolve("x.txt.gz"), "not gzip at all".getBytes());
    HNetException e = assertThrows(HNetException.class, () -> Corpus.open(f, 0));
    assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
  }

  @Test
  void skipMatchesRead() throws IOException {
    write(dir.resolve("1.txt"), TestCorpora.text(5000, 2));
    write(dir.resolve("2.txt.gz"), TestCorpora.text(7000, 3));
    write(dir.resolve("3.txt"), TestCorpora.text(3, 4));
    FileSource src = FileSource.directory(dir);
    byte[] all = packed(src);
    for (long at : new long[] {0, 1, 4999, 5000, 5001, 5002, 12_001, 12_002, all.length - 1}) {
      try (PackedReader r = new PackedReader(src)) {
        assertEquals(at, r.skip(at));
        byte[] rest = new byte[all.length - (int) at];
        assertEquals(rest.length, r.read(rest, 0, rest.length));
        assertEquals(show(all, (int) at, rest.length), show(rest), "from " + at);
        assertEquals(-1, r.read(new byte[1], 0, 1));
      }
    }
  }
}
