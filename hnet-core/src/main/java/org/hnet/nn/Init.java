package org.hnet.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.hnet.config.BlockSpec;
import org.hnet.config.HNetConfig;
import org.hnet.config.StageConfig;

/**
 * Fresh weights for training from scratch, as the reference's {@code init_weights(0.02)} and the
 * PyTorch defaults it leaves in place: embeddings N(0, 1); LM head and the stacks' linear layers
 * N(0, 0.02), with {@code out_proj} and {@code fc2} scaled by 1/√(residual additions on the path so
 * far) (GPT-2 style); routing projections the identity; residual_proj weight zero, bias U(±1/√d);
 * pad vectors zero; norm weights and Mamba-2's D one; A_log = log U(1, 16); dt_bias the inverse
 * softplus of dt ~ logU(0.001, 0.1) floored at 1e-4; conv1d weight and bias U(±1/√d_conv).
 */
public final class Init {
  public static final double RANGE = 0.02;

  private Init() {}

  /** Values for every parameter of {@code cfg}, in state-dict order, from one seed. */
  public static Map<String, float[]> weights(HNetConfig cfg, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] residuals = residualCounts(cfg);
    Map<String, Integer> stages = cfg.parameterStages();
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Map.Entry<String, int[]> e : cfg.parameterShapes().entrySet()) {
      String name = e.getKey();
      int[] shape = e.getValue();
      int n = (int) Param.numel(shape);
      float[] v = new float[n];
      int stage = Math.max(0, stages.get(name));
      if (name.equals("embeddings.weight")) {
        normal(rng, v, 1.0);
      } else if (name.equals("lm_head.weight")) {
        if (cfg.tieEmbeddings()) v = out.get("embeddings.weight").clone();
        else normal(rng, v, RANGE);
      } else if (name.endsWith("_proj_layer.weight")) {
        for (int i = 0; i < shape[0]; i++) v[i * shape[1] + i] = 1f;
      } else if (name.endsWith("residual_proj.weight") || name.endsWith("pad_dimension")) {
        // zeros
      } else if (name.endsWith("residual_proj.bias")) {
        uniform(rng, v, 1 / Math.sqrt(n));
      } else if (name.endsWith("norm.weight")
          || name.endsWith("norm1.weight")
          || name.endsWith("norm2.weight")
          || name.endsWith(".D")) {
        java.util.Arrays.fill(v, 1f);
      } else if (name.endsWith(".A_log")) {
        for (int i = 0; i < n; i++) v[i] = (float) Math.log(1 + 15 * rng.nextDouble());
      } else if (name.endsWith(".dt_bias")) {
        for (int i = 0; i < n; i++) {
          double dt =
              Math.exp(rng.nextDouble() * (Math.log(0.1) - Math.log(0.001)) + Math.log(0.001));
          dt = Math.max(dt, 1e-4);
          v[i] = (float) (dt + Math.log(-Math.expm1(-dt))); // softplus⁻¹(dt)
        }
      } else if (name.endsWith("conv1d.weight") || name.endsWith("conv1d.bias")) {
        int width = cfg.stage(stage).ssm().dConv();
        uniform(rng, v, 1 / Math.sqrt(width));
      } else if (name.endsWith("out_proj.weight") || name.endsWith("fc2.weight")) {
        normal(rng, v, RANGE / Math.sqrt(residuals[stage]));
      } else {
        normal(rng, v, RANGE); // in_proj, Wqkv, fc1
      }
      out.put(name, v);
    }
    return out;
  }

  /**
   * Per stage, the number of residual additions the reference divides by: the heights (blocks, ×2
   * with an MLP) of the encoders and decoders of this and the outer stages, plus the innermost
   * stack's own height at the innermost stage.
   */
  static double[] residualCounts(HNetConfig cfg) {
    double[] counts = new double[cfg.numStages()];
    double acc = 0;
    for (int s = 0; s < cfg.numStages(); s++) {
      StageConfig sc = cfg.stage(s);
      if (sc.innermost()) acc += height(sc.main());
      else acc += height(sc.encoder()) + height(sc.decoder());
      counts[s] = acc;
    }
    return counts;
  }

  private static int height(List<BlockSpec> blocks) {
    int h = 0;
    for (BlockSpec b : blocks) h += b.hasMlp() ? 2 : 1;
    return h;
  }

  private static void normal(SplittableRandom rng, float[] v, double std) {
    for (int i = 0; i < v.length; i++) v[i] = (float) (gaussian(rng) * std);
  }

  private static void uniform(SplittableRandom rng, float[] v, double bound) {
    for (int i = 0; i < v.length; i++) v[i] = (float) ((2 * rng.nextDouble() - 1) * bound);
  }

  /** Box–Muller on the splittable generator (deterministic across JDKs, unlike Random's cache). */
  private static double gaussian(SplittableRandom rng) {
    double u1 = rng.nextDouble(), u2 = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }
}
