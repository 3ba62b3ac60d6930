package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Enumeration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.testing.Allocations;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutations of real safetensors, .pt, config and model-directory files, each loaded as a
 * user would load it. Every case must end in a correct result or a one-line {@link HNetException}
 * (never another exception), within a time and allocation bound, without running anything and
 * without touching a file other than the case's own.
 */
class LoaderFuzzTest {
  static final Path GOLDEN = SafeTensorsTest.GOLDEN;
  static final long SEED = 20261206L;
  static final long CASE_MILLIS = 3000;
  static final long CASE_BYTES = 512L << 20;

  @TempDir Path dir;
  private final List<String> failures = new ArrayList<>();
  private int accepted, refused;

  interface Load {
    void run(Path file) throws Exception;
  }

  @Test
  void mutatedFilesFailCleanly() throws Exception {
    SplittableRandom r = new SplittableRandom(SEED);
    Path marker = dir.resolve("pwned");
    byte[] safetensors = Files.readAllBytes(GOLDEN.resolve("isotropic-T/model.safetensors"));
    byte[] pt = Files.readAllBytes(GOLDEN.resolve("1stage-packed/model.pt"));
    byte[] pickle = entry(GOLDEN.resolve("1stage-packed/model.pt"), "data.pkl");
    byte[] config = Files.readAllBytes(GOLDEN.resolve("2stage/config.json"));
    long t0 = System.nanoTime();

    for (int i = 0; i < 150; i++) {
      check(
          "safetensors " + i,
          mutateHeader(safetensors, r),
          "x.safetensors",
          f -> {
            for (TensorData t : SafeTensors.read(f).values()) {
              if (t.dtype().isFloatingPoint()) t.toFloats();
            }
          });
    }
    for (int i = 0; i < 100; i++) {
      byte[] pkl = mutate(pickle, r, 4);
      if (i % 10 == 0) pkl = payload(pkl, marker, r); // a code-execution payload spliced in
      check(
          "pt pickle " + i,
          rezip(GOLDEN.resolve("1stage-packed/model.pt"), pkl),
          "x.pt",
          TorchCheckpoint::read);
    }
    for (int i = 0; i < 50; i++) {
      check("pt zip " + i, mutate(pt, r, 8), "x.pt", TorchCheckpoint::read);
    }
    for (int i = 0; i < 120; i++) {
      check("config " + i, mutateJson(config, r), "config.json", HNetConfig::parse);
    }
    for (int i = 0; i < 40; i++) {
      byte[] c = i % 2 == 0 ? mutateJson(config, r) : config;
      byte[] w =
          i % 2 == 1
              ? mutateHeader(Files.readAllBytes(GOLDEN.resolve("2stage/model.safetensors")), r)
              : Files.readAllBytes(GOLDEN.resolve("2stage/model.safetensors"));
      Path model = Files.createDirectories(dir.resolve("model-" + i));
      Files.write(model.resolve("config.json"), c);
      check(
          "model dir " + i,
          w,
          "model-" + i + "/model.safetensors",
          f -> HNetForCausalLM.load(f.getParent()));
    }

    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    System.out.printf(
        "loader fuzz: %d cases accepted, %d refused, %d s%n", accepted, refused, seconds);
    assertEquals(List.of(), failures);
    assertFalse(Files.exists(marker), "a payload ran");
    assertTrue(
        refused > 200 && accepted > 10,
        accepted + " accepted, " + refused + " refused: the mutations test too little");
  }

  /**
   * Loads one mutated file; records anything but a result or a one-line HNetException in time and
   * memory.
   */
  private void check(String name, byte[] bytes, String fileName, Load load) throws IOException {
    Path f = dir.resolve(fileName);
    Files.createDirectories(f.getParent());
    Files.write(f, bytes);
    TreeSet<String> before = listing();
    long alloc0 = Allocations.ofThisThread(), t0 = System.nanoTime();
    try {
      load.run(f);
      accepted++;
    } catch (HNetException e) {
      refused++;
      if (e.getMessage() == null
          || e.getMessage().contains("\n")
          || e.getMessage().length() > 2000) {
        failures.add(name + ": not a one-line message: " + e.getMessage());
      }
    } catch (Throwable e) {
      failures.add(
          name
              + ": "
              + e
              + " on "
              + Base64.getEncoder()
                  .encodeToString(
                      bytes.length > 4096 ? java.util.Arrays.copyOf(bytes, 4096) : bytes));
    }
    long ms = (System.nanoTime() - t0) / 1_000_000,
        bytesAllocated = Allocations.ofThisThread() - alloc0;
    if (ms > CASE_MILLIS) failures.add(name + ": took " + ms + " ms");
    if (bytesAllocated > CASE_BYTES)
      failures.add(name + ": allocated " + bytesAllocated + " bytes");
    if (!before.equals(listing())) failures.add(name + ": files changed: " + listing());
  }

  private TreeSet<String> listing() throws IOException {
    TreeSet<String> out = new TreeSet<>();
    try (Stream<Path> w = Files.walk(dir)) {
      w.forEach(
          p ->
              out.add(
                  dir.relativize(p) + ":" + (Files.isRegularFile(p) ? p.toFile().length() : -1)));
    }
    return out;
  }

  /** Random flips, insertions, deletions and a truncation now and then. */
  static byte[] mutate(byte[] b, SplittableRandom r, int edits) {
    byte[] out = b.clone();
    int n = 1 + r.nextInt(edits);
    for (int k = 0; k < n; k++) {
      int kind = r.nextInt(10);
      int at = r.nextInt(Math.max(1, out.length));
      if (kind < 5 && out.length > 0) {
        out[at] ^= (byte) (1 << r.nextInt(8));
      } else if (kind < 7 && out.length > 0) {
        out[at] = (byte) r.nextInt(256);
      } else if (kind < 8) {
        out = splice(out, at, 0, new byte[] {(byte) r.nextInt(256)});
      } else if (kind < 9 && out.length > 1) {
        out = splice(out, at, Math.min(1 + r.nextInt(8), out.length - at), new byte[0]);
      } else {
        out = java.util.Arrays.copyOf(out, at);
      }
    }
    return out;
  }

  /**
   * Mutations aimed at a safetensors header: its length, its JSON (numbers, dtypes, names) or raw
   * bytes.
   */
  static byte[] mutateHeader(byte[] file, SplittableRandom r) {
    long n = java.nio.ByteBuffer.wrap(file).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
    switch (r.nextInt(4)) {
      case 0 -> {
        byte[] out = file.clone();
        java.nio.ByteBuffer.wrap(out)
            .order(java.nio.ByteOrder.LITTLE_ENDIAN)
            .putLong(0, n + r.nextInt(-3, 4));
        return out;
      }
      case 1 -> {
        String json = new String(file, 8, (int) n, StandardCharsets.UTF_8);
        String[] dtypes = {"F32", "I32", "F16", "BF16", "U8", "F64", "C64", "I64"};
        String changed =
            switch (r.nextInt(4)) {
              case 0 ->
                  json.replaceFirst("\"F32\"", "\"" + dtypes[r.nextInt(dtypes.length)] + "\"");
              case 1 -> replaceNumber(json, r);
              case 2 -> json.replaceFirst("\"([a-z_.0-9]+)\"", "\"$1\\\\u001b[2J\"");
              default -> json.replaceFirst("\\]", ", " + r.nextInt(1 << 20) + "]");
            };
        byte[] h = changed.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] len = new byte[8];
        java.nio.ByteBuffer.wrap(len).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(0, h.length);
        out.writeBytes(len);
        out.writeBytes(h);
        out.write(file, 8 + (int) n, file.length - 8 - (int) n);
        return out.toByteArray();
      }
      case 2 -> {
        byte[] out = file.clone();
        int at = 8 + r.nextInt((int) n);
        out[at] = (byte) r.nextInt(256);
        return out;
      }
      default -> {
        return mutate(file, r, 3);
      }
    }
  }

  /** Config JSON with a number changed (0, -1, huge, 2^31-1, ...) or a few bytes garbled. */
  static byte[] mutateJson(byte[] json, SplittableRandom r) {
    String s = new String(json, StandardCharsets.UTF_8);
    if (r.nextInt(3) == 0) return mutate(json, r, 3);
    return replaceNumber(s, r).getBytes(StandardCharsets.UTF_8);
  }

  static String replaceNumber(String s, SplittableRandom r) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?\\d+").matcher(s);
    List<int[]> spans = new ArrayList<>();
    while (m.find()) spans.add(new int[] {m.start(), m.end()});
    if (spans.isEmpty()) return s;
    int[] sp = spans.get(r.nextInt(spans.size()));
    String[] values = {
      "0",
      "-1",
      "1",
      "3",
      "2147483647",
      "-2147483648",
      "99999999999999999999",
      "1e9",
      "1.5",
      "65536",
      "\"x\""
    };
    return s.substring(0, sp[0]) + values[r.nextInt(values.length)] + s.substring(sp[1]);
  }

  /** A pickle with os.system("touch marker") spliced in before its STOP. */
  static byte[] payload(byte[] pickle, Path marker, SplittableRandom r) {
    byte[] call = ("cos\nsystem\n(Vtouch " + marker + "\ntR0").getBytes(StandardCharsets.UTF_8);
    int at = r.nextInt(pickle.length);
    return splice(pickle, at, 0, call);
  }

  static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
    byte[] out = new byte[b.length - remove + insert.length];
    System.arraycopy(b, 0, out, 0, at);
    System.arraycopy(insert, 0, out, at, insert.length);
    System.arraycopy(b, at + remove, out, at + insert.length, b.length - at - remove);
    return out;
  }

  /** The entry of a zip whose name ends with {@code suffix}. */
  static byte[] entry(Path zip, String suffix) throws IOException {
    try (ZipFile z = new ZipFile(zip.toFile())) {
      for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
        ZipEntry x = e.nextElement();
        if (x.getName().endsWith(suffix)) return z.getInputStream(x).readAllBytes();
      }
    }
    throw new IOException(suffix + " not in " + zip);
  }

  /** The checkpoint with its data.pkl replaced (stored, as torch.save writes it). */
  static byte[] rezip(Path zip, byte[] pickle) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipFile z = new ZipFile(zip.toFile());
        ZipOutputStream o = new ZipOutputStream(out)) {
      for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
        ZipEntry x = e.nextElement();
        o.putNextEntry(new ZipEntry(x.getName()));
        o.write(x.getName().endsWith("data.pkl") ? pickle : z.getInputStream(x).readAllBytes());
        o.closeEntry();
      }
    }
    return out.toByteArray();
  }
}
