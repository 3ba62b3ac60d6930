package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.hnet.io.TensorData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward pass against the official reference's float32 outputs (logits, routing decisions).
 */
class GoldenForwardTest {
  @ParameterizedTest
  @ValueSource(strings = {"1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m"})
  void logitsAndBoundariesMatchTheReference(String name) {
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
    checkAgainstGolden(name, lm);
  }

  @Test
  void thePyTorchCheckpointGivesTheSameResults(@TempDir Path tmp) throws IOException {
    String name = "1stage-packed";
    Files.copy(Golden.dir(name).resolve("config.json"), tmp.resolve("config.json"));
    Files.copy(Golden.dir(name).resolve("model.pt"), tmp.resolve("model.pt"));
    checkAgainstGolden(name, HNetForCausalLM.load(tmp));
  }

  @Test
  void aPackedBatchEqualsItsSequencesRunAlone() {
    String name = "1stage-packed";
    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
    Map<String, TensorData> io = Golden.io(name);
    int[] tokens = Golden.tokens(io);
    int L = io.get("input_ids").shape()[1];
    // uneven packing: the two rows cut into 3 sequences of different lengths
    int[] cu = {0, 77, L, 2 * L};
    HNetForCausalLM.Output packed = lm.forward(tokens, new SeqLens(cu));
    for (int i = 0; i < 3; i++) {
      int len = cu[i + 1] - cu[i];
      int[] one = java.util.Arrays.copyOfRange(tokens, cu[i], cu[i + 1]);
      HNetForCausalLM.Output alone = lm.forward(one, SeqLens.uniform(1, len));
      float[] part = java.util.Arrays.copyOfRange(packed.logits(), cu[i] * 256, cu[i + 1] * 256);
      assertArrayEquals(alone.logits(), part, 1e-6f, "logits of sequence " + i);
      RoutingModule.Output r = packed.routing().get(0);
      boolean[] mask = java.util.Arrays.copyOfRange(r.boundaryMask(), cu[i], cu[i + 1]);
      assertArrayEquals(alone.routing().get(0).boundaryMask(), mask, "boundaries of sequence " + i);
    }
  }

  static void checkAgainstGolden(String name, HNetForCausalLM lm) {
    Map<String, TensorData> io = Golden.io(name);
    SeqLens seqs = Golden.seqs(io);
    HNetForCausalLM.Output out = lm.forward(Golden.tokens(io), seqs);

    float logitErr = Golden.maxAbsDiff(io.get("logits").toFloats(), out.logits());
    System.out.printf("golden %-14s logits max abs diff %.3g%n", name, logitErr);
    assertTrue(logitErr <= 1e-4f, name + ": logits differ by " + logitErr);

    List<RoutingModule.Output> routing = out.routing();
    int stages = 0;
    while (io.containsKey("boundary_prob_" + stages)) stages++;
    assertEquals(stages, routing.size(), name + ": number of routing stages");
    for (int s = 0; s < stages; s++) {
      RoutingModule.Output r = routing.get(s);
      float probErr = Golden.maxAbsDiff(io.get("boundary_prob_" + s).toFloats(), r.boundaryProb());
      float selErr = Golden.maxAbsDiff(io.get("selected_probs_" + s).toFloats(), r.selectedProbs());
      System.out.printf(
          "golden %-14s stage %d: %d positions, %d boundaries, prob max abs diff %.3g, selected %.3g%n",
          name, s, r.boundaryProb().length, r.boundaries(), probErr, selErr);
      assertTrue(probErr <= 1e-5f, name + ": boundary_prob_" + s + " differs by " + probErr);
      assertTrue(selErr <= 1e-5f, name + ": selected_probs_" + s + " differs by " + selErr);
      byte[] want = io.get("boundary_mask_" + s).toU8();
      boolean[] got = r.boundaryMask();
      assertEquals(want.length, got.length, name + ": stage " + s + " length");
      for (int i = 0; i < want.length; i++) {
        assertEquals(want[i] != 0, got[i], name + ": boundary_mask_" + s + "[" + i + "]");
      }
      if (io.containsKey("cu_seqlens_" + s)) {
        long[] cu = io.get("cu_seqlens_" + s).toLongs();
        int[] ours = r.seqs().cu();
        assertEquals(cu.length, ours.length);
        for (int i = 0; i < cu.length; i++)
          assertEquals(cu[i], ours[i], "cu_seqlens_" + s + "[" + i + "]");
      }
    }
  }
}
