package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafeTensorsTest {
  static final Path GOLDEN = Path.of("src/test/resources/golden");

  @ParameterizedTest
  @ValueSource(strings = {"1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m"})
  void readsEveryGoldenFile(String name) throws IOException {
    Path dir = GOLDEN.resolve(name);
    int d0 =
        new ObjectMapper()
            .readTree(dir.resolve("config.json").toFile())
            .get("d_model")
            .get(0)
            .intValue();

    Map<String, TensorData> model = SafeTensors.read(dir.resolve("model.safetensors"));
    assertEquals(headerKeys(dir.resolve("model.safetensors")), List.copyOf(model.keySet()));
    TensorData emb = model.get("embeddings.weight");
    assertEquals(DType.F32, emb.dtype());
    assertArrayEquals(new int[] {256, d0}, emb.shape());
    assertArrayEquals(new int[] {256, d0}, model.get("lm_head.weight").shape());
    for (TensorData t : model.values()) {
      assertEquals(DType.F32, t.dtype());
      float[] v = t.toFloats();
      assertEquals(t.numel(), v.length);
      for (float x : v) {
        assertTrue(Float.isFinite(x), t.label());
      }
    }
    assertEquals(
        Map.of("format", "pt", "case", name, "dtype", "float32"),
        SafeTensors.readMetadata(dir.resolve("model.safetensors")));

    Map<String, TensorData> io = SafeTensors.read(dir.resolve("io.safetensors"));
    assertEquals(headerKeys(dir.resolve("io.safetensors")), List.copyOf(io.keySet()));
    TensorData ids = io.get("input_ids");
    assertEquals(DType.I64, ids.dtype());
    long[] bytes = ids.toLongs();
    for (long b : bytes) {
      assertTrue(b >= 0 && b < 256);
    }
    assertEquals(0, io.get("ce_loss").shape().length);
    assertEquals(1, io.get("ce_loss").numel());
    float loss = io.get("ce_loss").toFloats()[0];
    assertTrue(loss > 1 && loss < 10, "ce_loss " + loss); // about ln 256 = 5.5 for random weights
    assertEquals(
        Map.of("format", "hnet-golden-v1", "case", name),
        SafeTensors.readMetadata(dir.resolve("io.safetensors")));
  }

  @Test
  void knownTensorsOfMaskedAndPackedCases() {
    Map<String, TensorData> mixed = SafeTensors.read(GOLDEN.resolve("1stage-mixed/io.safetensors"));
    assertEquals(DType.I64, mixed.get("input_ids").dtype());
    assertArrayEquals(new int[] {1, 192}, mixed.get("input_ids").shape());
    TensorData mask = mixed.get("mask_0");
    assertEquals(DType.U8, mask.dtype());
    assertArrayEquals(new int[] {1, 192}, mask.shape());
    for (byte b : mask.toU8()) {
      assertEquals(1, b); // the cases run with an all-true mask
    }
    assertArrayEquals(new int[] {1, 192, 256}, mixed.get("logits").shape());

    Map<String, TensorData> packed =
        SafeTensors.read(GOLDEN.resolve("1stage-packed/io.safetensors"));
    TensorData cu = packed.get("cu_seqlens_0");
    assertEquals(DType.I64, cu.dtype());
    assertArrayEquals(new long[] {0, 128, 256}, cu.toLongs());
    assertArrayEquals(new int[] {256}, packed.get("boundary_prob_0").shape());
    // Every sequence start is a boundary (p is forced to 1 there); masks are 0/1.
    byte[] bm = packed.get("boundary_mask_0").toU8();
    assertEquals(1, bm[0]);
    assertEquals(1, bm[128]);
    for (byte b : bm) {
      assertTrue(b == 0 || b == 1);
    }
    assertEquals(1f, packed.get("boundary_prob_0").toFloats()[128]);
  }

  @Test
  void roundTripsEveryDtype(@TempDir Path dir) throws IOException {
    Map<String, TensorData> in = new LinkedHashMap<>();
    in.put(
        "f32", TensorData.ofFloats(new int[] {2, 3}, new float[] {1, -2, 3.5f, Float.NaN, 0, 7}));
    in.put("i64", TensorData.ofLongs(new int[] {3}, new long[] {Long.MIN_VALUE, -1, 1L << 40}));
    in.put("i32", TensorData.ofInts(new int[] {2}, new int[] {Integer.MAX_VALUE, -7}));
    in.put("u8", TensorData.ofU8(new int[] {1, 3}, new byte[] {0, 1, (byte) 255}));
    in.put("scalar", TensorData.ofFloats(new int[] {}, new float[] {42}));
    in.put("empty", TensorData.ofFloats(new int[] {0, 5}, new float[0]));
    in.put(
        "f64", TensorData.ofBytes(DType.F64, new int[] {1}, le(Double.doubleToLongBits(0.1), 8)));
    in.put("f16", TensorData.ofBytes(DType.F16, new int[] {1}, le(0x3C00, 2)));
    in.put("bf16", TensorData.ofBytes(DType.BF16, new int[] {1}, le(0xC040, 2)));
    in.put("i16", TensorData.ofBytes(DType.I16, new int[] {1}, le(-3, 2)));
    in.put("i8", TensorData.ofBytes(DType.I8, new int[] {2}, new byte[] {-128, 127}));
    in.put("bool", TensorData.ofBytes(DType.BOOL, new int[] {2}, new byte[] {1, 0}));
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("format", "pt");
    meta.put("note", "ünïcode");
    Path file = dir.resolve("rt.safetensors");
    Files.writeString(file, "old content to be replaced");
    SafeTensors.write(file, in, meta);

    Map<String, TensorData> out = SafeTensors.read(file);
    assertEquals(List.copyOf(in.keySet()), List.copyOf(out.keySet()));
    for (String k : in.keySet()) {
      assertEquals(in.get(k).dtype(), out.get(k).dtype(), k);
      assertArrayEquals(in.get(k).shape(), out.get(k).shape(), k);
      assertEquals(-1, in.get(k).segment().mismatch(out.get(k).segment()), k);
    }
    assertEquals(meta, SafeTensors.readMetadata(file));
    assertArrayEquals(new long[] {Long.MIN_VALUE, -1, 1L << 40}, out.get("i64").toLongs());
    assertEquals(1f, out.get("f16").toFloats()[0]);
    assertEquals(-3f, out.get("bf16").toFloats()[0]);
    assertEquals(0.1f, out.get("f64").toFloats()[0]);

    byte[] raw = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    assertEquals(0, n % 8, "header padded to a multiple of 8");
    String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\""), header);
    assertTrue(
        header.startsWith(
            "\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}",
            header.indexOf("\"f32\":{") + 7),
        header);
    assertFalse(Files.exists(dir.resolve("rt.safetensors.tmp")));

    Path again = dir.resolve("again.safetensors");
    SafeTensors.write(again, out, meta); // from mapped tensors, deterministic
    assertArrayEquals(raw, Files.readAllBytes(again));

    Path noMeta = dir.resolve("nometa.safetensors");
    SafeTensors.write(noMeta, Map.of("x", in.get("u8")), Map.of());
    assertFalse(Files.readString(noMeta, StandardCharsets.ISO_8859_1).contains("__metadata__"));
    assertEquals(Map.of(), SafeTensors.readMetadata(noMeta));
  }

  /**
   * A tensor whose bytes a source makes (int8 weights held in the kernels' layout) is written a
   * chunk at a time, never whole, and reads back as the source made it; read through the class, it
   * is made once.
   */
  @Test
  void aTensorFromASourceIsWrittenInChunks(@TempDir Path dir) {
    int n = (5 << 20) / 2 + 3; // 2.5 write chunks and a few bytes
    long[] largest = {0};
    TensorData.ByteSource src =
        (from, dst, len) -> {
          largest[0] = Math.max(largest[0], len);
          for (long i = 0; i < len; i++)
            dst.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) ((from + i) * 31 % 251));
        };
    Map<String, TensorData> in = new LinkedHashMap<>();
    in.put("before", TensorData.ofFloats(new int[] {3}, new float[] {1, 2, 3}));
    in.put("q", TensorData.ofSource(DType.I8, new int[] {n}, src));
    Path f = dir.resolve("s.safetensors");
    SafeTensors.write(f, in, null);
    assertTrue(largest[0] <= 1 << 20, "asked for " + largest[0] + " bytes at once");
    byte[] want = new byte[n];
    for (int i = 0; i < n; i++) want[i] = (byte) ((long) i * 31 % 251);
    assertArrayEquals(want, SafeTensors.read(f).get("q").toI8());
    assertArrayEquals(want, in.get("q").toI8());
    assertArrayEquals(new float[] {1, 2, 3}, SafeTensors.read(f).get("before").toFloats());
  }

  @Test
  void rewritingAGoldenModelPreservesEveryTensor(@TempDir Path dir) {
    Map<String, TensorData> in = SafeTensors.read(GOLDEN.resolve("2stage/model.safetensors"));
    Path copy = dir.resolve("copy.safetensors");
    SafeTensors.write(copy, in, Map.of("format", "pt"));
    Map<String, TensorData> out = SafeTensors.read(copy);
    assertEquals(in.keySet(), out.keySet());
    for (String k : in.keySet()) {
      assertArrayEquals(in.get(k).toFloats(), out.get(k).toFloats(), k);
    }
  }

  @Test
  void multiGigabyteSparseFileUsesLongOffsetsAndRefusesOversizedArrays(@TempDir Path dir)
      throws IOException {
    long big = 1L << 31; // a U8 tensor of 2^31 elements: mappable, but no Java array holds it
    String json =
        "{\"huge\":{\"dtype\":\"U8\",\"shape\":[2,"
            + (big / 2)
            + "],\"data_offsets\":[0,"
            + big
            + "]},\"tail\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":["
            + big
            + ","
            + (big + 8)
            + "]}}";
    byte[] h = (json + " ".repeat(8 - json.length() % 8)).getBytes(StandardCharsets.UTF_8);
    Path f = dir.resolve("sparse.safetensors");
    try (FileChannel ch =
        FileChannel.open(
            f,
            StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE,
            StandardOpenOption.SPARSE)) {
      ch.write(ByteBuffer.wrap(le(h.length, 8)));
      ch.write(ByteBuffer.wrap(h));
      ByteBuffer tail =
          ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).flip();
      ch.write(tail, 8 + h.length + big);
    }
    Map<String, TensorData> t = SafeTensors.read(f);
    assertEquals(big, t.get("huge").numel());
    assertArrayEquals(new float[] {1.5f, -2f}, t.get("tail").toFloats());
    HNetException e = assertThrows(HNetException.class, () -> t.get("huge").toU8());
    assertTrue(
        e.getMessage().startsWith(f + ": tensor 'huge' has 2147483648 elements"), e.getMessage());
  }

  /** Tensor names in the order the file's JSON header lists them. */
  static List<String> headerKeys(Path file) throws IOException {
    byte[] raw = Files.readAllBytes(file);
    long n = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    JsonNode root =
        new ObjectMapper().readTree(new String(raw, 8, (int) n, StandardCharsets.UTF_8));
    List<String> keys = new ArrayList<>();
    root.fieldNames().forEachRemaining(keys::add);
    keys.remove("__metadata__");
    return keys;
  }

  static byte[] le(long v, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (v >>> (8 * i));
    }
    return b;
  }
}
