package org.hnet.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.hnet.HNetException;
import org.hnet.train.data.Sampling;

/**
 * Everything that defines a training run besides the model config and the data: saved in the run
 * directory so that {@code --resume} continues with exactly the same settings.
 *
 * @param steps optimizer steps in total
 * @param batch rows per micro-batch
 * @param seqLen bytes per row
 * @param accum micro-batches per optimizer step (gradient accumulation)
 * @param lr peak learning rate
 * @param schedule "wsd", "cosine" or "constant" (see LrSchedule.parse)
 * @param warmup warmup steps
 * @param lrMultipliers per-stage learning-rate multipliers, outer stage first
 * @param ratioTargets target compression N per routing stage, outer stage first
 * @param alpha weight of the ratio losses
 * @param weightDecay AdamW decoupled weight decay
 * @param clip global gradient-norm clip (≤ 0: none)
 * @param seed weight init and data shuffling
 * @param checkpointEvery steps between checkpoints
 * @param evalEvery steps between held-out evaluations (≤ 0: only at the end)
 * @param evalBatches held-out batches per evaluation (≤ 0: the whole held-out split)
 * @param evalFraction share of the corpus held out
 * @param jsonField the text field of JSONL data
 * @param sampling how rows are drawn: "random" (i.i.d. windows of the whole train part) or
 *     "sequential" (in order, shuffled within blocks); absent in runs made before random sampling,
 *     which were sequential
 * @param ratioFrom target compression per routing stage at step 0 when it is ramped (null: no
 *     ramp); the boundary rate 1/N moves linearly from 1/ratioFrom to 1/ratioTargets over {@code
 *     ramp} steps
 * @param alphaFrom weight of the ratio losses at step 0 when it is ramped (null: no ramp); moves
 *     linearly to {@code alpha} over {@code ramp} steps
 * @param ramp steps over which ratioFrom and alphaFrom move to their targets (0: none)
 */
public record TrainOptions(
    long steps,
    int batch,
    int seqLen,
    int accum,
    double lr,
    String schedule,
    long warmup,
    double[] lrMultipliers,
    double[] ratioTargets,
    double alpha,
    double weightDecay,
    double beta1,
    double beta2,
    double eps,
    double clip,
    long seed,
    long checkpointEvery,
    long evalEvery,
    int evalBatches,
    double evalFraction,
    String jsonField,
    String sampling,
    double[] ratioFrom,
    Double alphaFrom,
    long ramp) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public TrainOptions {
    require(steps >= 1, "--steps must be at least 1");
    require(batch >= 1, "--batch must be at least 1");
    require(seqLen >= 2, "--seq-len must be at least 2");
    require(accum >= 1, "--accum must be at least 1");
    require(lr > 0 && Double.isFinite(lr), "--lr must be positive");
    require(warmup >= 0, "--warmup must not be negative");
    require(alpha >= 0, "--alpha must not be negative");
    require(weightDecay >= 0, "--weight-decay must not be negative");
    require(checkpointEvery >= 1, "--checkpoint-every must be at least 1");
    require(evalFraction > 0 && evalFraction < 1, "--eval-fraction must be in (0, 1)");
    for (double n : ratioTargets)
      require(n > 1, "every ratio target N must be greater than 1, got " + n);
    for (double m : lrMultipliers)
      require(m > 0, "learning-rate multipliers must be positive, got " + m);
    if (sampling == null) sampling = Sampling.SEQUENTIAL.id();
    Sampling.parse(sampling); // names the bad value
    require(ramp >= 0, "--ramp must not be negative");
    if (ratioFrom != null) {
      require(
          ratioFrom.length == ratioTargets.length,
          "--ratio-from needs one value per routing stage, as --ratio");
      for (double n : ratioFrom)
        require(n > 1, "every --ratio-from N must be greater than 1, got " + n);
    }
    require(alphaFrom == null || alphaFrom >= 0, "--alpha-from must not be negative");
  }

  /** The target compression of each routing stage at {@code step} (see {@link #ratioFrom}). */
  public double[] ratioAt(long step) {
    if (ratioFrom == null || ramp == 0) return ratioTargets.clone();
    double f = Math.min(1.0, (double) step / ramp);
    double[] n = new double[ratioTargets.length];
    for (int s = 0; s < n.length; s++) {
      double rate =
          (1 - f) / ratioFrom[s] + f / ratioTargets[s]; // the boundary rate moves linearly
      n[s] = 1 / rate;
    }
    return n;
  }

  /** The weight of the ratio losses at {@code step} (see {@link #alphaFrom}). */
  public double alphaAt(long step) {
    if (alphaFrom == null || ramp == 0) return alpha;
    double f = Math.min(1.0, (double) step / ramp);
    return (1 - f) * alphaFrom + f * alpha;
  }

  /** {@link #sampling} as the enum. */
  public Sampling samplingMode() {
    return Sampling.parse(sampling);
  }

  private static void require(boolean ok, String message) {
    if (!ok) throw new HNetException(message);
  }

  public String toJson() {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(this);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public static TrainOptions fromJson(String json, String source) {
    if (json.isBlank())
      throw new HNetException(source + ": empty (the run's training options are missing)");
    try {
      return JSON.readValue(json, TrainOptions.class);
    } catch (HNetException e) {
      throw e;
    } catch (Exception e) {
      throw new HNetException(
          source
              + ": not valid training options: "
              + e.getMessage().lines().findFirst().orElse(""));
    }
  }
}
