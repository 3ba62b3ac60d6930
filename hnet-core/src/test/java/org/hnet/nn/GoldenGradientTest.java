package org.hnet.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;
import java.util.TreeSet;
import org.hnet.io.TensorData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Losses and every parameter gradient against the official reference (float32, its STE included).
 */
class GoldenGradientTest {
  /** Next byte of the same row, −1 at each row's last position (the golden CE: t < L−1). */
  static int[] nextByteTargets(int[] tokens, SeqLens seqs) {
    int[] targets = new int[tokens.length];
    for (int i = 0; i < seqs.count(); i++) {
      int s = seqs.start(i), e = s + seqs.length(i);
      for (int t = s; t < e; t++) targets[t] = t + 1 < e ? tokens[t + 1] : -1;
    }
    return targets;
  }

  static JsonNode caseJson(String name) throws IOException {
    return new ObjectMapper().readTree(Golden.dir(name).resolve("case.json").toFile());
  }

  @ParameterizedTest
  @ValueSource(strings = {"1stage-mixed", "1stage-packed", "2stage", "isotropic-T", "isotropic-m"})
  void lossesAndEveryGradientMatchTheReference(String name) throws IOException {
    JsonNode cj = caseJson(name);
    double alpha = cj.get("alpha").asDouble();
    double[] n = new double[cj.get("N").size()];
    for (int i = 0; i < n.length; i++) n[i] = cj.get("N").get(i).asDouble();

    HNetForCausalLM lm = HNetForCausalLM.load(Golden.dir(name));
    Map<String, TensorData> io = Golden.io(name);
    SeqLens seqs = Golden.seqs(io);
    int[] tokens = Golden.tokens(io);
    org.hnet.train.Objective.Losses losses =
        new org.hnet.train.Objective(lm)
            .lossAndGradients(tokens, nextByteTargets(tokens, seqs), seqs, n, alpha);

    assertRel(name + " ce_loss", io.get("ce_loss").toFloats()[0], losses.ce(), 1e-5);
    for (int s = 0; s < n.length; s++) {
      assertRel(
          name + " ratio_loss_" + s,
          io.get("ratio_loss_" + s).toFloats()[0],
          losses.ratio()[s],
          1e-5);
    }
    assertRel(name + " total_loss", io.get("total_loss").toFloats()[0], losses.total(), 1e-5);

    TreeSet<String> golden = new TreeSet<>();
    for (String k : io.keySet()) if (k.startsWith("grad.")) golden.add(k.substring(5));
    assertEquals(
        golden, new TreeSet<>(lm.parameters.keySet()), name + ": the parameters with gradients");
    double worst = 0;
    String worstName = "";
    for (Param p : lm.parameters.values()) {
      float[] want = io.get("grad." + p.name).toFloats();
      assertNotNull(p.grad, name + ": no gradient for " + p.name);
      double scale = 0, err = 0;
      for (int i = 0; i < want.length; i++) {
        scale = Math.max(scale, Math.abs(want[i]));
        err = Math.max(err, Math.abs(want[i] - p.grad[i]));
      }
      double rel = scale == 0 ? err : err / scale;
      if (rel > worst) {
        worst = rel;
        worstName = p.name;
      }
      assertTrue(
          rel <= 1e-3,
          name + ": grad." + p.name + " max rel error " + rel + " (scale " + scale + ")");
    }
    System.out.printf(
        "golden %-14s ce %.3g total %.3g rel err; worst gradient %.3g (%s)%n",
        name,
        Math.abs(losses.ce() / io.get("ce_loss").toFloats()[0] - 1),
        Math.abs(losses.total() / io.get("total_loss").toFloats()[0] - 1),
        worst,
        worstName);
  }

  static void assertRel(String what, double want, double got, double rtol) {
    assertTrue(
        Math.abs(got - want) <= rtol * Math.abs(want), what + ": want " + want + " got " + got);
  }
}
