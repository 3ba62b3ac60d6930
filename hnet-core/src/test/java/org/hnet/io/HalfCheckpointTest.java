package org.hnet.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.nio.file.Path;
import java.util.Map;
import org.hnet.kernels.CompactWeight;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Param;
import org.hnet.nn.WeightFormat;
import org.junit.jupiter.api.Test;

/**
 * Checkpoints that PyTorch saved in half precision (scripts/make-half-checkpoints.py: torch.save of
 * the golden 1stage-packed state dict cast by .bfloat16() and .half()), as an official checkpoint
 * saved in bf16 is: they load as those values, widened exactly, in every format.
 */
class HalfCheckpointTest {
  private static final Path GOLDEN = SafeTensorsTest.GOLDEN.resolve("1stage-packed");
  private static final Path DIRS = Path.of("src/test/resources/checkpoints");

  /** x rounded to bfloat16 and back (torch's .bfloat16(): to nearest, ties to even). */
  private static float bf16(float x) {
    return Float.intBitsToFloat(CompactWeight.toBf16(x) << 16);
  }

  /** x rounded to float16 and back (torch's .half(): to nearest, ties to even). */
  private static float f16(float x) {
    return Float.float16ToFloat(Float.floatToFloat16(x));
  }

  @Test
  void torchSavedHalfTensorsAreTheRoundedFloat32Values() {
    Map<String, TensorData> f32 = SafeTensors.read(GOLDEN.resolve("model.safetensors"));
    for (String kind : new String[] {"bf16", "f16"}) {
      Map<String, TensorData> pt =
          TorchCheckpoint.read(DIRS.resolve("1stage-packed-" + kind).resolve("model.pt"));
      assertEquals(f32.keySet(), pt.keySet(), kind);
      for (var e : f32.entrySet()) {
        TensorData t = pt.get(e.getKey());
        assertEquals(kind.equals("bf16") ? DType.BF16 : DType.F16, t.dtype(), e.getKey());
        assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
        float[] want = e.getValue().toFloats(), got = t.toFloats();
        for (int i = 0; i < want.length; i++)
          want[i] = kind.equals("bf16") ? bf16(want[i]) : f16(want[i]);
        assertArrayEquals(want, got, kind + " " + e.getKey());
      }
    }
  }

  @Test
  void aHalfPrecisionModelDirectoryLoadsInEveryFormat() {
    Map<String, TensorData> f32 = SafeTensors.read(GOLDEN.resolve("model.safetensors"));
    for (String kind : new String[] {"bf16", "f16"}) {
      Path dir = DIRS.resolve("1stage-packed-" + kind);
      HNetForCausalLM wide = HNetForCausalLM.load(dir);
      for (var e : f32.entrySet()) {
        Param p = wide.parameters.get(e.getKey());
        assertNotNull(p, e.getKey());
        float[] want = e.getValue().toFloats();
        for (int i = 0; i < want.length; i++)
          want[i] = kind.equals("bf16") ? bf16(want[i]) : f16(want[i]);
        assertArrayEquals(want, p.data, kind + " " + e.getKey());
      }
      // held in bf16, a bf16 checkpoint's weights are its own values and an f16 one's are
      // rounded once more; held in int8, each large weight is the int8 form of the values
      HNetForCausalLM bf = HNetForCausalLM.load(dir, WeightFormat.BF16);
      HNetForCausalLM q = HNetForCausalLM.load(dir, WeightFormat.INT8);
      for (String name : wide.config.productWeights()) {
        float[] v = wide.parameters.get(name).data;
        CompactWeight b = bf.parameters.get(name).compact, i8 = q.parameters.get(name).compact;
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) r[i] = bf16(r[i]);
        assertArrayEquals(r, b.toFloats(), kind + " " + name);
        int[] s = wide.parameters.get(name).shape();
        assertArrayEquals(
            CompactWeight.int8(v, 0, s[0], s[1]).toFloats(), i8.toFloats(), kind + " " + name);
      }
    }
  }
}
