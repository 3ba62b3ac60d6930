package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every malformed file must give a one-line HNetException naming the file (and tensor). */
class SafeTensorsCorruptTest {
  @TempDir Path dir;

  private static final Path SOURCE = SafeTensorsTest.GOLDEN.resolve("isotropic-T/io.safetensors");

  /** Asserts read() and readMetadata() fail with a message holding every fragment. */
  private static void assertRejected(Path file, String... fragments) {
    HNetException e = assertThrows(HNetException.class, () -> SafeTensors.read(file));
    String m = e.getMessage();
    assertTrue(m.startsWith(file.toString() + ":"), m);
    assertFalse(m.contains("\n"), m);
    for (String f : fragments) {
      assertTrue(m.contains(f), "'" + f + "' not in: " + m);
    }
    HNetException e2 = assertThrows(HNetException.class, () -> SafeTensors.readMetadata(file));
    assertTrue(e2.getMessage().startsWith(file.toString() + ":"), e2.getMessage());
  }

  /** A file with the given header text (padded to 8) and {@code dataBytes} zero bytes of data. */
  private Path craft(String json, int dataBytes) throws IOException {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    return craftRaw(h, dataBytes);
  }

  private Path craftRaw(byte[] h, int dataBytes) throws IOException {
    int n = (h.length + 7) & ~7;
    ByteBuffer b = ByteBuffer.allocate(8 + n + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(n).put(h);
    for (int i = h.length; i < n; i++) {
      b.put((byte) ' ');
    }
    Path f = Files.createTempFile(dir, "bad", ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  @Test
  void truncatedCopiesAreRejected() throws IOException {
    byte[] full = Files.readAllBytes(SOURCE);
    long n = ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    int headerEnd = 8 + (int) n;
    int[] cuts = {
      0, 3, 7, 8, 9, 100, headerEnd - 1, headerEnd, headerEnd + 1, full.length / 2, full.length - 1
    };
    for (int cut : cuts) {
      Path f = dir.resolve("cut" + cut + ".safetensors");
      Files.write(f, Arrays.copyOf(full, cut));
      if (cut < 8) {
        assertRejected(f, "too short");
      } else if (cut < headerEnd) {
        assertRejected(f, "runs past the end");
      } else {
        assertRejected(f, "tensor '", "beyond the file's " + (cut - headerEnd) + " data bytes");
      }
    }
  }

  @Test
  void garbledHeadersAreRejected() throws IOException {
    byte[] full = Files.readAllBytes(SOURCE);
    byte[] junk = full.clone();
    Arrays.fill(junk, 20, 40, (byte) '#');
    Path f = dir.resolve("junk.safetensors");
    Files.write(f, junk);
    assertRejected(f, "not valid JSON");

    // Same-length dtype lie: the F32 logits declared F16 no longer match their byte count.
    String text = new String(full, StandardCharsets.ISO_8859_1);
    Path lie = dir.resolve("dtype.safetensors");
    Files.write(
        lie,
        text.replaceFirst("\"logits\":\\{\"dtype\":\"F32\"", "\"logits\":{\"dtype\":\"F16\"")
            .getBytes(StandardCharsets.ISO_8859_1));
    assertRejected(lie, "tensor 'logits'", "F16", "needs");

    Path unknown = dir.resolve("unknown.safetensors");
    Files.write(
        unknown,
        text.replaceFirst("\"logits\":\\{\"dtype\":\"F32\"", "\"logits\":{\"dtype\":\"F99\"")
            .getBytes(StandardCharsets.ISO_8859_1));
    assertRejected(unknown, "tensor 'logits'", "unsupported dtype 'F99'");
  }

  @Test
  void headerLengthOutOfRange() throws IOException {
    Path absurd = dir.resolve("absurd.safetensors");
    byte[] b = new byte[64];
    Arrays.fill(b, 0, 8, (byte) 0xFF);
    Files.write(absurd, b);
    assertRejected(absurd, "header length 18446744073709551615 is implausible");

    Path big = dir.resolve("big.safetensors");
    ByteBuffer bb = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 200_000_000L);
    Files.write(big, bb.array());
    assertRejected(big, "implausible");

    Path past = dir.resolve("past.safetensors");
    bb = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1000);
    Files.write(past, bb.array());
    assertRejected(past, "header length 1000 runs past the end of the 64-byte file");
  }

  @Test
  void badJsonStructureIsRejected() throws IOException {
    assertRejected(craft("{\"a\": ", 0), "not valid JSON");
    assertRejected(craft("[1, 2]", 0), "not a JSON object");
    assertRejected(craft("{} trailing", 0), "not valid JSON");
    assertRejected(craftRaw(new byte[] {'{', '"', (byte) 0xC3, '"', '}'}, 0), "UTF-8");
    String ok = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
    assertRejected(craft("{\"x\":" + ok + ",\"x\":" + ok + "}", 8), "not valid JSON", "x");
    assertRejected(craft("{\"__metadata__\":{\"a\":1}}", 0), "__metadata__", "'a'");
    assertRejected(craft("{\"__metadata__\":[]}", 0), "__metadata__");
    assertRejected(craft("{\"w\":3}", 0), "tensor 'w'", "not a JSON object");
  }

  @Test
  void badTensorEntriesAreRejected() throws IOException {
    assertRejected(
        craft("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "tensor 'w'", "dtype");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4),
        "tensor 'w'",
        "shape");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,4]}}", 4),
        "tensor 'w'",
        "shape");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4),
        "tensor 'w'",
        "shape");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4),
        "tensor 'w'",
        "data_offsets");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8),
        "tensor 'w'",
        "data_offsets");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8),
        "tensor 'w'",
        "data_offsets");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8),
        "tensor 'w'",
        "needs 12 bytes");
    assertRejected(
        craft("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[100,116]}}", 8),
        "tensor 'w' declares bytes [100, 116) beyond the file's 8 data bytes");
    assertRejected(
        craft(
            "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}",
            8),
        "tensor 'w'",
        "exceeds");
    assertRejected(
        craft(
            "{\"w\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647,2147483647],"
                + "\"data_offsets\":[0,8]}}",
            8),
        "tensor 'w'",
        "too large");
  }

  /** As strict as the format's reference: the tensors tile the data section exactly. */
  @Test
  void overlapsHolesTrailingBytesAndAShiftedHeaderAreRejected() throws IOException {
    String two =
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]},"
            + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]}}";
    assertRejected(craft(String.format(two, 0, 8, 0, 8), 8), "overlapping");
    assertRejected(craft(String.format(two, 0, 8, 4, 12), 12), "overlapping");
    assertRejected(craft(String.format(two, 0, 8, 12, 20), 20), "a hole");
    assertRejected(craft(String.format(two, 0, 8, 8, 16), 17), "16 data bytes, the file has 17");
    // the same file is fine without the extra byte
    SafeTensors.read(craft(String.format(two, 0, 8, 8, 16), 16));

    // a real file with its header length one byte off either way
    byte[] full = Files.readAllBytes(SOURCE);
    long n = ByteBuffer.wrap(full).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    for (long delta : new long[] {-1, 1}) {
      byte[] b = full.clone();
      ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n + delta);
      Path f = Files.createTempFile(dir, "shift", ".safetensors");
      Files.write(f, b);
      HNetException e =
          assertThrows(
              HNetException.class, () -> SafeTensors.read(f), "header length " + (n + delta));
      assertTrue(e.getMessage().startsWith(f + ":"), e.getMessage());
    }
  }

  /**
   * A name with terminal escapes is printed escaped: the message cannot clear or recolour the
   * terminal.
   */
  @Test
  void namesInMessagesAreEscaped() throws IOException {
    Path f =
        craft(
            "{\"\\u001b[2J\\u001b[31mw\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}",
            8);
    HNetException e = assertThrows(HNetException.class, () -> SafeTensors.read(f));
    assertFalse(e.getMessage().contains("\u001b"), e.getMessage());
    assertTrue(e.getMessage().contains("\\u001b[2J"), e.getMessage());
  }

  @Test
  void missingFileAndWrongConversionNameTheFileAndTensor() {
    Path none = dir.resolve("none.safetensors");
    assertRejected(none, "no such file");
    TensorData logits = SafeTensors.read(SOURCE).get("logits");
    HNetException e = assertThrows(HNetException.class, logits::toLongs);
    assertTrue(e.getMessage().startsWith(SOURCE + ": tensor 'logits' is F32"), e.getMessage());
    e = assertThrows(HNetException.class, logits::toU8);
    assertTrue(e.getMessage().startsWith(SOURCE + ": tensor 'logits' is F32"), e.getMessage());
  }
}
