package org.hnet.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Test helpers: locating resources and reading tensor names out of the golden model files. */
final class TestFiles {
  static final List<String> GOLDEN_CASES =
      List.of("1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m");

  private TestFiles() {}

  static Path resource(String path) {
    try {
      return Path.of(TestFiles.class.getResource("/" + path).toURI());
    } catch (URISyntaxException | NullPointerException e) {
      throw new IllegalStateException("missing test resource " + path, e);
    }
  }

  /** Tensor name to shape from a safetensors header (8-byte LE length, then JSON), header order. */
  static LinkedHashMap<String, int[]> safetensorsShapes(Path file) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      byte[] len = in.readNBytes(8);
      long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
      head = in.readNBytes(Math.toIntExact(n));
    }
    JsonNode root = new ObjectMapper().readTree(new String(head, StandardCharsets.UTF_8));
    LinkedHashMap<String, int[]> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("__metadata__")) {
        continue;
      }
      JsonNode shape = e.getValue().get("shape");
      int[] dims = new int[shape.size()];
      for (int i = 0; i < dims.length; i++) {
        dims[i] = shape.get(i).intValue();
      }
      out.put(e.getKey(), dims);
    }
    return out;
  }

  /**
   * The keys of the state_dict pickled in a torch.save zip, in pickling order (= the OrderedDict's
   * order). Scans data.pkl for BINUNICODE / SHORT_BINUNICODE strings and keeps those in {@code
   * keys}, first occurrence only; other strings (storage ids, "cpu", _metadata module names) are
   * not parameter names.
   */
  static List<String> pickledKeyOrder(Path ptFile, Set<String> keys) throws IOException {
    byte[] pkl;
    try (ZipFile zip = new ZipFile(ptFile.toFile())) {
      ZipEntry entry =
          zip.stream().filter(z -> z.getName().endsWith("/data.pkl")).findFirst().orElseThrow();
      pkl = zip.getInputStream(entry).readAllBytes();
    }
    Set<String> seen = new LinkedHashSet<>();
    for (int i = 0; i < pkl.length; i++) {
      int op = pkl[i] & 0xff;
      int len;
      int start;
      if (op == 'X' && i + 5 <= pkl.length) { // BINUNICODE: 4-byte LE length
        len = ByteBuffer.wrap(pkl, i + 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        start = i + 5;
      } else if (op == 0x8c && i + 2 <= pkl.length) { // SHORT_BINUNICODE: 1-byte length
        len = pkl[i + 1] & 0xff;
        start = i + 2;
      } else {
        continue;
      }
      if (len <= 0 || len > 1000 || start + len > pkl.length) {
        continue;
      }
      String s = new String(pkl, start, len, StandardCharsets.UTF_8);
      if (keys.contains(s)) {
        seen.add(s);
      }
    }
    return new ArrayList<>(seen);
  }
}
