package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {
  private static final Path PACKED = SafeTensorsTest.GOLDEN.resolve("1stage-packed");

  @TempDir Path dir;

  @Test
  void goldenModelPtEqualsModelSafetensorsBitForBit() {
    Map<String, TensorData> pt = TorchCheckpoint.read(PACKED.resolve("model.pt"));
    Map<String, TensorData> st = SafeTensors.read(PACKED.resolve("model.safetensors"));
    assertEquals(st.keySet(), pt.keySet());
    assertTrue(pt.size() > 20, "state dict has " + pt.size() + " tensors");
    for (Map.Entry<String, TensorData> e : st.entrySet()) {
      TensorData p = pt.get(e.getKey());
      assertEquals(e.getValue().dtype(), p.dtype(), e.getKey());
      assertArrayEquals(e.getValue().shape(), p.shape(), e.getKey());
      assertEquals(-1, e.getValue().segment().mismatch(p.segment()), e.getKey());
      assertEquals(PACKED.resolve("model.pt") + ": tensor '" + e.getKey() + "'", p.label());
      // torch.save stores its storages uncompressed: read from a mapping, not copied to the heap
      assertTrue(p.segment().isMapped(), e.getKey());
    }
  }

  /** A torch.save-style zip: archive "ckpt" with the pickle, storages and byteorder. */
  private Path zip(String name, byte[] pickle, Map<String, byte[]> storages, String byteorder)
      throws IOException {
    Path f = dir.resolve(name);
    try (OutputStream os = Files.newOutputStream(f);
        ZipOutputStream z = new ZipOutputStream(os)) {
      put(z, "ckpt/data.pkl", pickle);
      if (byteorder != null) {
        put(z, "ckpt/byteorder", byteorder.getBytes(StandardCharsets.US_ASCII));
      }
      for (Map.Entry<String, byte[]> s : storages.entrySet()) {
        put(z, "ckpt/data/" + s.getKey(), s.getValue());
      }
      put(z, "ckpt/version", "3\n".getBytes(StandardCharsets.US_ASCII));
    }
    return f;
  }

  private static void put(ZipOutputStream z, String name, byte[] b) throws IOException {
    z.putNextEntry(new ZipEntry(name));
    z.write(b);
    z.closeEntry();
  }

  private static byte[] floats(float... v) {
    byte[] b = new byte[4 * v.length];
    MemorySegment.copy(v, 0, MemorySegment.ofArray(b), TensorData.F32_LE, 0, v.length);
    return b;
  }

  private static Map<String, byte[]> storages() {
    Map<String, byte[]> s = new LinkedHashMap<>();
    s.put("0", floats(0, 1, 2, 3, 4, 5));
    byte[] longs = new byte[24];
    MemorySegment.copy(
        new long[] {10, 20, -30}, 0, MemorySegment.ofArray(longs), TensorData.I64_LE, 0, 3);
    s.put("1", longs);
    return s;
  }

  @Test
  void stridedSharedAndNestedTensorsOfAHandBuiltCheckpoint() throws IOException {
    PickleWriter w = new PickleWriter().proto(2).op('}').mark();
    w.str("epoch").integer(3);
    // A config object of an unknown class, as official checkpoints hold omegaconf objects.
    w.str("config")
        .global("omegaconf.listconfig", "ListConfig")
        .op(')', 0x81)
        .op('}')
        .str("_content")
        .op(']', 's', 'b');
    w.str("state_dict").global("collections", "OrderedDict").op(')', 'R').mark();
    w.str("a").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1});
    w.str("t").tensor("FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3});
    w.str("tail").tensor("FloatStorage", "0", 6, 3, new long[] {3}, new long[] {1});
    w.str("p").global("torch._utils", "_rebuild_parameter");
    w.mark().tensor("FloatStorage", "0", 6, 1, new long[] {2}, new long[] {2});
    w.op(0x88).global("collections", "OrderedDict").op(')', 'R', 't', 'R');
    w.str("scalar").tensor("LongStorage", "1", 3, 2, new long[] {}, new long[] {});
    w.str("bcast").tensor("LongStorage", "1", 3, 0, new long[] {2, 2}, new long[] {0, 1});
    w.str("empty").tensor("FloatStorage", "0", 6, 0, new long[] {0, 4}, new long[] {4, 1});
    w.str("note").str("not a tensor");
    w.op('u', 'u');
    Path f = zip("hand.pt", w.stop(), storages(), "little");

    Map<String, TensorData> sd = TorchCheckpoint.read(f);
    assertEquals(
        List.of("a", "t", "tail", "p", "scalar", "bcast", "empty"), List.copyOf(sd.keySet()));
    assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, sd.get("a").toFloats());
    assertArrayEquals(new int[] {3, 2}, sd.get("t").shape());
    assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, sd.get("t").toFloats());
    assertArrayEquals(new float[] {3, 4, 5}, sd.get("tail").toFloats());
    assertArrayEquals(new float[] {1, 3}, sd.get("p").toFloats());
    assertEquals(DType.I64, sd.get("scalar").dtype());
    assertArrayEquals(new int[0], sd.get("scalar").shape());
    assertArrayEquals(new long[] {-30}, sd.get("scalar").toLongs());
    assertArrayEquals(new long[] {10, 20, 10, 20}, sd.get("bcast").toLongs());
    assertEquals(0, sd.get("empty").numel());
    assertArrayEquals(new int[] {0, 4}, sd.get("empty").shape());
  }

  @Test
  void tensorBeyondItsStorageIsRejected() throws IOException {
    PickleWriter w = new PickleWriter().proto(2).op('}');
    w.str("w").tensor("FloatStorage", "0", 6, 4, new long[] {3}, new long[] {1}).op('s');
    Path f = zip("over.pt", w.stop(), storages(), null);
    String m = assertThrows(HNetException.class, () -> TorchCheckpoint.read(f)).getMessage();
    assertTrue(m.startsWith(f + ": ckpt/data.pkl at byte "), m);
    assertTrue(m.contains("reaches element 6 of storage data/0, which has 6"), m);
  }

  @Test
  void malformedCheckpointsNameTheFile() throws IOException {
    PickleWriter ok = new PickleWriter().proto(2).op('}');
    ok.str("w").tensor("FloatStorage", "0", 6, 0, new long[] {6}, new long[] {1}).op('s');
    byte[] pickle = ok.stop();
    Path noStorage = zip("nostorage.pt", pickle, Map.of(), null);
    assertMessage(noStorage, "ckpt/data/0 is missing");
    Path shortStorage = zip("short.pt", pickle, Map.of("0", new byte[8]), null);
    assertMessage(
        shortStorage,
        "storage data/0: the zip declares 8 bytes, its tensor type and element count need 24");
    Path big = zip("big.pt", pickle, storages(), "big");
    assertMessage(big, "byteorder 'big'");

    PickleWriter half = new PickleWriter().proto(2).op('}');
    half.str("w").tensor("ComplexFloatStorage", "0", 1, 0, new long[] {1}, new long[] {1});
    assertMessage(
        zip("complex.pt", half.op('s').stop(), storages(), null),
        "refuses the global 'torch.ComplexFloatStorage'");
    assertMessage(
        zip("list.pt", new PickleWriter().proto(2).op(']').stop(), Map.of(), null),
        "not a state dict");
    PickleWriter noTensors = new PickleWriter().proto(2).op('}').str("epoch").integer(1).op('s');
    assertMessage(zip("none.pt", noTensors.stop(), Map.of(), null), "no tensors", "epoch");

    Path empty = dir.resolve("empty.pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(empty))) {
      put(z, "x/other", new byte[1]);
    }
    assertMessage(empty, "no <archive>/data.pkl");
    Path legacy = dir.resolve("legacy.pt");
    Files.write(legacy, new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
    assertMessage(legacy, "legacy");
    Path text = dir.resolve("text.pt");
    Files.writeString(text, "hello");
    assertMessage(text, "not a torch.save zip");
    assertMessage(dir.resolve("missing.pt"), "no such file");
  }

  /**
   * Files of a few hundred bytes to a few MB that declare gigabytes are refused before anything is
   * allocated.
   */
  @Test
  void memoryBombsAreRefusedBeforeAllocating() throws IOException {
    // 8 tensors (400000000,) with stride 0 over a 4-byte storage: 12.8 GB if copied out
    PickleWriter w = new PickleWriter().proto(2).op('}').mark();
    for (int i = 0; i < 8; i++) {
      w.str("w" + i).tensor("FloatStorage", "0", 1, 0, new long[] {400_000_000}, new long[] {0});
    }
    Path strided = zip("stride0.pt", w.op('u').stop(), Map.of("0", floats(1)), null);
    assertMessage(strided, "the file declares a tensor [400000000] with stride [0]");

    // a storage entry that inflates to 1.5 GiB from a DEFLATE stream of about 1.5 MB
    long big = 1536L << 20;
    PickleWriter one = new PickleWriter().proto(2).op('}');
    one.str("w")
        .tensor("FloatStorage", "0", big / 4, 0, new long[] {(int) (big / 4)}, new long[] {1})
        .op('s');
    Path bomb = dir.resolve("bomb.pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(bomb))) {
      z.setLevel(9);
      put(z, "ckpt/data.pkl", one.stop());
      z.putNextEntry(new ZipEntry("ckpt/data/0"));
      byte[] zeros = new byte[1 << 20];
      for (long done = 0; done < big; done += zeros.length) z.write(zeros);
      z.closeEntry();
    }
    assertTrue(Files.size(bomb) < 4 << 20, Files.size(bomb) + " bytes");
    long heapBefore = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
    assertMessage(
        bomb, "the file declares a compressed storage data/0 that inflates (1610612736 bytes)");
    assertTrue(
        Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory() - heapBefore
            < 512L << 20);

    // the pickle itself as the bomb
    Path pklBomb = dir.resolve("pkl-bomb.pt");
    try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(pklBomb))) {
      z.setLevel(9);
      z.putNextEntry(new ZipEntry("ckpt/data.pkl"));
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 300; i++) z.write(zeros);
      z.closeEntry();
    }
    assertMessage(pklBomb, "the file declares a ckpt/data.pkl of 314572800 bytes");
  }

  @Test
  void truncatedGoldenCheckpointIsRejected() throws IOException {
    byte[] full = Files.readAllBytes(PACKED.resolve("model.pt"));
    for (int cut :
        new int[] {0, 2, 4, 100, 5000, full.length / 2, full.length - 30, full.length - 1}) {
      Path f = dir.resolve("cut" + cut + ".pt");
      Files.write(f, Arrays.copyOf(full, cut));
      assertMessage(f);
    }
    // Zeroing the middle of the pickle breaks it at an opcode or a storage lookup.
    byte[] garbled = full.clone();
    int pkl = indexOf(full, "ccollections".getBytes(StandardCharsets.US_ASCII));
    Arrays.fill(garbled, pkl + 300, pkl + 340, (byte) 0xEE);
    Path g = dir.resolve("garbled.pt");
    Files.write(g, garbled);
    assertMessage(g);
  }

  /**
   * A bit flipped inside a stored entry (a weight's storage, read from the mapping, or the pickle,
   * read through ZipFile) fails the entry's CRC-32, which ZipFile does not check for stored
   * entries: without the check, the flipped weight loaded as it was.
   */
  @Test
  void aFlippedBitInAStoredEntryFailsItsCrc() throws IOException {
    byte[] full = Files.readAllBytes(PACKED.resolve("model.pt"));
    for (String entry : new String[] {"/data/0", "/data.pkl"}) {
      int data = storedData(full, entry);
      byte[] bad = full.clone();
      bad[data + 7] ^= 0x10;
      Path f = dir.resolve("flipped" + entry.replace('/', '-') + ".pt");
      Files.write(f, bad);
      assertMessage(f, entry + " fails its CRC-32 check", "the file is damaged");
    }
  }

  /** Where the bytes of the stored entry whose name ends with {@code suffix} begin in a zip. */
  private static int storedData(byte[] zip, String suffix) {
    ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
    for (int at = 0; at + 30 <= zip.length; at++) {
      if (b.getInt(at) != 0x04034b50) continue; // a local file header
      int n = b.getShort(at + 26) & 0xFFFF, m = b.getShort(at + 28) & 0xFFFF;
      String name = new String(zip, at + 30, n, StandardCharsets.UTF_8);
      if (name.endsWith(suffix)) {
        assertEquals(0, b.getShort(at + 8), name + " is stored, not compressed");
        return at + 30 + n + m;
      }
    }
    throw new AssertionError("no stored entry " + suffix);
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }

  private static void assertMessage(Path f, String... fragments) {
    String m = assertThrows(HNetException.class, () -> TorchCheckpoint.read(f)).getMessage();
    assertTrue(m.startsWith(f + ":"), m);
    assertFalse(m.contains("\n"), m);
    for (String s : fragments) {
      assertTrue(m.contains(s), "'" + s + "' not in: " + m);
    }
  }
}
