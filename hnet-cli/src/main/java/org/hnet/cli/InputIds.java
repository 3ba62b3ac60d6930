package org.hnet.cli;

import java.nio.file.Path;
import java.util.Map;
import org.hnet.HNetException;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;

/** The input_ids of an input file (forward, grad, bench), validated: B×L, every id a byte. */
record InputIds(int[] tokens, int rows, int length) {
  static InputIds read(Path file) {
    Map<String, TensorData> in = SafeTensors.read(file);
    TensorData t = in.get("input_ids");
    if (t == null)
      throw new HNetException(
          file + ": no tensor 'input_ids' (found: " + String.join(", ", in.keySet()) + ")");
    int[] shape = t.shape();
    if (shape.length != 2) {
      throw new HNetException(
          file + ": input_ids must have shape B×L, got " + java.util.Arrays.toString(shape));
    }
    if (t.dtype() != org.hnet.io.DType.I64 && t.dtype() != org.hnet.io.DType.I32) {
      throw new HNetException(file + ": input_ids must be int64 or int32, got " + t.dtype());
    }
    int B = shape[0], L = shape[1];
    if (B == 0 || L == 0)
      throw new HNetException(file + ": input_ids is empty (shape " + B + "×" + L + ")");
    long[] v = t.toLongs();
    int[] tokens = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      if (v[i] < 0 || v[i] > 255) {
        throw new HNetException(
            file
                + ": input_ids["
                + (i / L)
                + ", "
                + (i % L)
                + "] = "
                + v[i]
                + " is not a byte (0..255)");
      }
      tokens[i] = (int) v[i];
    }
    return new InputIds(tokens, B, L);
  }
}
