package org.hnet.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;

/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length n, n
 * bytes of UTF-8 JSON mapping tensor names to {dtype, shape, data_offsets} (offsets relative to the
 * data section that follows the header) plus an optional "__metadata__" string map, then the raw
 * little-endian tensor bytes. Reading memory-maps the file, so multi-GB files cost no heap until a
 * tensor is converted.
 */
public final class SafeTensors {
  /** Same limit as the reference implementation: larger headers are corrupt or hostile. */
  static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final String METADATA_KEY = "__metadata__";
  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  // Writes are streamed through a direct buffer of this size.
  private static final long WRITE_CHUNK = 1L << 20;

  private SafeTensors() {}

  private record Entry(DType dtype, int[] shape, long begin, long end) {}

  private record Header(long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {}

  /** All tensors of {@code file}, in header order, backed by a read-only mapping of the file. */
  public static Map<String, TensorData> read(Path file) {
    String f = file.toString();
    checkRegularFile(file, f);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(ch, f);
      MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), Arena.ofAuto());
      Map<String, TensorData> out = new LinkedHashMap<>();
      for (Map.Entry<String, Entry> e : h.entries().entrySet()) {
        Entry t = e.getValue();
        MemorySegment bytes = all.asSlice(h.dataStart() + t.begin(), t.end() - t.begin());
        out.put(
            e.getKey(),
            new TensorData(t.dtype(), t.shape(), bytes, f + ": tensor '" + e.getKey() + "'"));
      }
      return out;
    } catch (IOException e) {
      throw ioError(f, "cannot read", e);
    }
  }

  /** The "__metadata__" string map of {@code file} (empty if none); validates the whole header. */
  public static Map<String, String> readMetadata(Path file) {
    String f = file.toString();
    checkRegularFile(file, f);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(ch, f).metadata();
    } catch (IOException e) {
      throw ioError(f, "cannot read", e);
    }
  }

  /**
   * Refuses what is not a regular file before opening it: a FIFO would block the open forever and a
   * device such as /dev/zero never ends.
   */
  static void checkRegularFile(Path file, String f) {
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw new HNetException(
          f
              + ": "
              + (Files.isDirectory(file)
                  ? "is a directory"
                  : "is not a regular file (a pipe or a device?)"));
    }
  }

  /**
   * Writes {@code tensors} in iteration order (pass an ordered map for reproducible files) with
   * compact JSON padded by spaces to a multiple of 8 bytes, so the data section starts 8-aligned.
   * The file is written whole or not at all ({@link AtomicFile}), so readers never see a partial
   * file.
   */
  public static void write(
      Path file, Map<String, TensorData> tensors, Map<String, String> metadata) {
    String f = file.toString();
    byte[] header = headerBytes(f, tensors, metadata);
    try {
      AtomicFile.write(
          file,
          (FileChannel ch) -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            len.putLong(0, header.length);
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            // through one buffer: a tensor's bytes may be a view of a float[] (viewOfFloats),
            // which has no ByteBuffer of its own
            ByteBuffer buf = ByteBuffer.allocateDirect((int) WRITE_CHUNK);
            MemorySegment chunk = MemorySegment.ofBuffer(buf);
            for (TensorData t : tensors.values()) {
              long size = t.byteSize();
              for (long off = 0; off < size; off += WRITE_CHUNK) {
                long n = Math.min(WRITE_CHUNK, size - off);
                t.copyTo(off, chunk, n);
                writeFully(ch, buf.clear().limit((int) n));
              }
            }
          });
    } catch (IOException e) {
      throw ioError(f, "cannot write", e);
    }
  }

  private static byte[] headerBytes(
      String f, Map<String, TensorData> tensors, Map<String, String> metadata) {
    ObjectNode root = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode meta = root.putObject(METADATA_KEY);
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (Map.Entry<String, TensorData> e : tensors.entrySet()) {
      if (e.getKey().equals(METADATA_KEY)) {
        throw new HNetException(f + ": '" + METADATA_KEY + "' cannot be a tensor name");
      }
      TensorData t = e.getValue();
      ObjectNode node = root.putObject(e.getKey());
      node.put("dtype", t.dtype().name());
      ArrayNode shape = node.putArray("shape");
      for (int d : t.shape()) {
        shape.add(d);
      }
      long end = offset + t.byteSize();
      node.putArray("data_offsets").add(offset).add(end);
      offset = end;
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new HNetException(f + ": cannot encode the header: " + e.getOriginalMessage(), e);
    }
    int padded = (json.length + 7) & ~7;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  private static Header readHeader(FileChannel ch, String f) throws IOException {
    long size = ch.size();
    if (size < 8) {
      throw new HNetException(
          f + ": " + size + " bytes is too short for a safetensors file (8-byte header length)");
    }
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long n = lenBuf.getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new HNetException(
          f
              + ": header length "
              + Long.toUnsignedString(n)
              + " is implausible (limit "
              + MAX_HEADER_BYTES
              + " bytes); not a safetensors file?");
    }
    if (8 + n > size) {
      throw new HNetException(
          f + ": header length " + n + " runs past the end of the " + size + "-byte file");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) n);
    readFully(ch, hb, 8);
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(hb.flip())
              .toString();
    } catch (CharacterCodingException e) {
      throw new HNetException(f + ": header is not valid UTF-8", e);
    }
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new HNetException(
          f + ": header is not valid JSON: " + oneLine(e.getOriginalMessage()), e);
    }
    if (root == null || !root.isObject()) {
      throw new HNetException(f + ": header is not a JSON object");
    }
    long dataStart = 8 + n;
    long dataSize = size - dataStart;
    Map<String, Entry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : root.properties()) {
      if (e.getKey().equals(METADATA_KEY)) {
        readMetadata(f, e.getValue(), metadata);
      } else {
        entries.put(e.getKey(), entry(f, e.getKey(), e.getValue(), dataSize));
      }
    }
    checkLayout(f, entries, dataSize);
    return new Header(dataStart, entries, metadata);
  }

  /**
   * As the format's reference validates it: the tensors, in order of their offsets, tile the data
   * section exactly, with no overlap, no hole and nothing after the last. A header length that is
   * one byte off, aliased tensors or appended bytes are all errors, not a shifted reading.
   */
  private static void checkLayout(String f, Map<String, Entry> entries, long dataSize) {
    List<Map.Entry<String, Entry>> byOffset = new ArrayList<>(entries.entrySet());
    byOffset.sort(
        java.util.Comparator.comparingLong((Map.Entry<String, Entry> e) -> e.getValue().begin())
            .thenComparingLong(e -> e.getValue().end()));
    long at = 0;
    for (Map.Entry<String, Entry> e : byOffset) {
      Entry t = e.getValue();
      if (t.begin() != at) {
        throw new HNetException(
            f
                + ": tensor '"
                + e.getKey()
                + "' starts at data byte "
                + t.begin()
                + ", but the tensors before it"
                + (t.begin() < at
                    ? " end at " + at + " (overlapping data)"
                    : " end at " + at + " (a hole)"));
      }
      at = t.end();
    }
    if (at != dataSize) {
      throw new HNetException(
          f
              + ": the tensors hold "
              + at
              + " data bytes, the file has "
              + dataSize
              + " after its header (a wrong header length or bytes appended)");
    }
  }

  private static void readMetadata(String f, JsonNode node, Map<String, String> into) {
    if (!node.isObject()) {
      throw new HNetException(f + ": " + METADATA_KEY + " is not a JSON object");
    }
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw new HNetException(
            f + ": " + METADATA_KEY + " value of '" + e.getKey() + "' is not a string");
      }
      into.put(e.getKey(), e.getValue().textValue());
    }
  }

  private static Entry entry(String f, String name, JsonNode node, long dataSize) {
    String at = f + ": tensor '" + name + "'";
    if (!node.isObject()) {
      throw new HNetException(at + ": header entry is not a JSON object");
    }
    JsonNode dt = node.get("dtype");
    if (dt == null || !dt.isTextual()) {
      throw new HNetException(at + ": missing or non-string \"dtype\"");
    }
    DType dtype = DType.fromSafetensorsName(dt.textValue());
    if (dtype == null) {
      throw new HNetException(
          at
              + ": unsupported dtype '"
              + dt.textValue()
              + "' (supported: "
              + Arrays.toString(DType.values())
              + ")");
    }
    JsonNode sh = node.get("shape");
    if (sh == null || !sh.isArray()) {
      throw new HNetException(at + ": \"shape\" is not a list of non-negative integers");
    }
    int[] shape = new int[sh.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = sh.get(i);
      if (!d.isIntegralNumber() || !d.canConvertToLong() || d.longValue() < 0) {
        throw new HNetException(
            at + ": \"shape\" " + sh + " is not a list of non-negative integers");
      }
      if (d.longValue() > Integer.MAX_VALUE) {
        throw new HNetException(at + ": dimension " + d + " of \"shape\" exceeds 2^31-1");
      }
      shape[i] = d.intValue();
    }
    JsonNode off = node.get("data_offsets");
    if (off == null
        || !off.isArray()
        || off.size() != 2
        || !isLong(off.get(0))
        || !isLong(off.get(1))
        || off.get(0).longValue() < 0
        || off.get(1).longValue() < off.get(0).longValue()) {
      throw new HNetException(
          at + ": \"data_offsets\" " + off + " is not [begin, end] with 0 <= begin <= end");
    }
    long begin = off.get(0).longValue();
    long end = off.get(1).longValue();
    long expected;
    try {
      expected = Math.multiplyExact(TensorData.numel(shape), dtype.bytes());
    } catch (ArithmeticException e) {
      throw new HNetException(at + ": shape " + Arrays.toString(shape) + " is too large");
    }
    if (end - begin != expected) {
      throw new HNetException(
          at
              + ": "
              + dtype
              + " "
              + Arrays.toString(shape)
              + " needs "
              + expected
              + " bytes but data_offsets ["
              + begin
              + ", "
              + end
              + ") hold "
              + (end - begin));
    }
    if (end > dataSize) {
      throw new HNetException(
          at
              + " declares bytes ["
              + begin
              + ", "
              + end
              + ") beyond the file's "
              + dataSize
              + " data bytes");
    }
    return new Entry(dtype, shape, begin, end);
  }

  private static boolean isLong(JsonNode n) {
    return n.isIntegralNumber() && n.canConvertToLong();
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos);
      if (r < 0) {
        throw new IOException("unexpected end of file at byte " + pos);
      }
      pos += r;
    }
  }

  static HNetException ioError(String f, String what, IOException e) {
    String why = e instanceof NoSuchFileException ? "no such file" : oneLine(String.valueOf(e));
    return new HNetException(f + ": " + what + ": " + why, e);
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
  }
}
