package org.hnet.train.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Small hand-made corpora and a reference reading of a corpus's byte stream. */
final class TestCorpora {
  private TestCorpora() {}

  static Path write(Path file, String text) throws IOException {
    return write(file, text.getBytes(StandardCharsets.UTF_8));
  }

  static Path write(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    if (file.getFileName().toString().endsWith(".gz")) {
      try (OutputStream os = new GZIPOutputStream(Files.newOutputStream(file))) {
        os.write(bytes);
      }
    } else {
      Files.write(file, bytes);
    }
    return file;
  }

  /** The whole packed stream of a source (BOS + document, ...), read the simple way. */
  static byte[] packed(DocSource source) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (PackedReader r = new PackedReader(source)) {
      byte[] buf = new byte[7]; // odd size, to cross document boundaries mid-read
      int n;
      while ((n = r.read(buf, 0, buf.length)) > 0) out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  /** "BOS" rendered as '^' so streams can be compared as strings in assertions. */
  static String show(byte[] b, int off, int len) {
    StringBuilder s = new StringBuilder();
    for (int i = off; i < off + len; i++) {
      int c = b[i] & 0xFF;
      s.append(c == 254 ? '^' : (char) c);
    }
    return s.toString();
  }

  static String show(byte[] b) {
    return show(b, 0, b.length);
  }

  static String show(int[] tokens, int off, int len) {
    StringBuilder s = new StringBuilder();
    for (int i = off; i < off + len; i++) s.append(tokens[i] == 254 ? '^' : (char) tokens[i]);
    return s.toString();
  }

  /** Deterministic pseudo-text with newlines, {@code n} bytes. */
  static byte[] text(int n, long seed) {
    byte[] b = new byte[n];
    long s = seed;
    for (int i = 0; i < n; i++) {
      s = s * 6364136223846793005L + 1442695040888963407L;
      int r = (int) (s >>> 58);
      b[i] = (byte) (r == 0 ? '\n' : r < 8 ? ' ' : 'a' + (r % 26));
    }
    return b;
  }
}
