package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;

/** The golden cases copied into the test resources, and comparison helpers. */
final class Golden {
  static final String[] CASES = {
    "1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m"
  };

  private Golden() {}

  static Path dir(String name) {
    return Path.of("src/test/resources/golden", name);
  }

  static Map<String, TensorData> io(String name) {
    return SafeTensors.read(dir(name).resolve("io.safetensors"));
  }

  /** The packing of a case: the rows of input_ids, or cu_seqlens_0 in packed mode. */
  static SeqLens seqs(Map<String, TensorData> io) {
    int[] shape = io.get("input_ids").shape();
    return SeqLens.uniform(shape[0], shape[1]);
  }

  static int[] tokens(Map<String, TensorData> io) {
    long[] v = io.get("input_ids").toLongs();
    int[] t = new int[v.length];
    for (int i = 0; i < v.length; i++) t[i] = (int) v[i];
    return t;
  }

  static float maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length, "lengths differ");
    float m = 0;
    for (int i = 0; i < a.length; i++) {
      float d = Math.abs(a[i] - b[i]);
      if (!(d <= m)) m = Float.isNaN(d) ? Float.POSITIVE_INFINITY : d;
    }
    return m;
  }
}
