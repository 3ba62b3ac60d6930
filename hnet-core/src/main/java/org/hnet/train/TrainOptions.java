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
 * @param extension how the run was extended past its first total of steps (null: never)
 * @param initFrom the model directory the weights came from (fine-tuning), or null (fresh)
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
    long ramp,
    Extension extension,
    String initFrom) {

  /**
   * A run extended past its first total: from step {@code at} the schedule is the one of the new
   * total, reached linearly over the warmup steps from {@code fromLr}, the learning rate of the
   * last step before (so that a WSD run that had decayed re-warms instead of jumping to its peak).
   */
  public record Extension(long at, double fromLr) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  // The defaults: the demo's recipe (a 1.2M-parameter model learning in a few minutes on 2 cores).
  public static final long DEFAULT_STEPS = 300;
  public static final int DEFAULT_BATCH = 8;
  public static final int DEFAULT_SEQ_LEN = 512;
  public static final double DEFAULT_LR = 3e-3;
  public static final String DEFAULT_SCHEDULE = "wsd";
  public static final double DEFAULT_ALPHA = 0.03;
  public static final double DEFAULT_WEIGHT_DECAY = 0.1;
  public static final double DEFAULT_CLIP = 1.0;
  public static final long DEFAULT_CHECKPOINT_EVERY = 100;
  public static final long DEFAULT_EVAL_EVERY = 50;
  public static final int DEFAULT_EVAL_BATCHES = 8;
  public static final double DEFAULT_EVAL_FRACTION = 0.1;
  public static final String DEFAULT_SAMPLING = "random";

  /** The defaults for a model of {@code cfg}, to change with the builder's setters. */
  public static Builder builder(org.hnet.config.HNetConfig cfg) {
    return new Builder(cfg.numStages());
  }

  /**
   * TrainOptions from the defaults and what is set. Config-dependent defaults: target compression 6
   * with one routing stage and 3 per stage with more (the paper's), learning-rate multipliers all
   * 1; warmup a tenth of the steps, at most 200.
   */
  public static final class Builder {
    private final int stages;
    private long steps = DEFAULT_STEPS;
    private int batch = DEFAULT_BATCH, seqLen = DEFAULT_SEQ_LEN, accum = 1;
    private double lr = DEFAULT_LR;
    private String schedule = DEFAULT_SCHEDULE;
    private Long warmup;
    private double[] lrMultipliers, ratioTargets, ratioFrom;
    private double alpha = DEFAULT_ALPHA, weightDecay = DEFAULT_WEIGHT_DECAY, clip = DEFAULT_CLIP;
    private long seed,
        checkpointEvery = DEFAULT_CHECKPOINT_EVERY,
        evalEvery = DEFAULT_EVAL_EVERY,
        ramp;
    private int evalBatches = DEFAULT_EVAL_BATCHES;
    private double evalFraction = DEFAULT_EVAL_FRACTION;
    private String jsonField = "text", sampling = DEFAULT_SAMPLING;
    private Double alphaFrom;
    private String initFrom;

    private Builder(int stages) {
      this.stages = stages;
    }

    public Builder steps(long v) {
      steps = v;
      return this;
    }

    public Builder batch(int v) {
      batch = v;
      return this;
    }

    public Builder seqLen(int v) {
      seqLen = v;
      return this;
    }

    public Builder accum(int v) {
      accum = v;
      return this;
    }

    public Builder lr(double v) {
      lr = v;
      return this;
    }

    public Builder schedule(String v) {
      schedule = v;
      return this;
    }

    public Builder warmup(long v) {
      warmup = v;
      return this;
    }

    public Builder lrMultipliers(double... v) {
      lrMultipliers = v.clone();
      return this;
    }

    public Builder ratio(double... v) {
      ratioTargets = v.clone();
      return this;
    }

    public Builder alpha(double v) {
      alpha = v;
      return this;
    }

    public Builder ratioFrom(double... v) {
      ratioFrom = v.clone();
      return this;
    }

    public Builder alphaFrom(double v) {
      alphaFrom = v;
      return this;
    }

    public Builder ramp(long v) {
      ramp = v;
      return this;
    }

    public Builder weightDecay(double v) {
      weightDecay = v;
      return this;
    }

    public Builder clip(double v) {
      clip = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder checkpointEvery(long v) {
      checkpointEvery = v;
      return this;
    }

    public Builder evalEvery(long v) {
      evalEvery = v;
      return this;
    }

    public Builder evalBatches(int v) {
      evalBatches = v;
      return this;
    }

    public Builder evalFraction(double v) {
      evalFraction = v;
      return this;
    }

    public Builder jsonField(String v) {
      jsonField = v;
      return this;
    }

    public Builder sampling(String v) {
      sampling = v;
      return this;
    }

    public Builder initFrom(String v) {
      initFrom = v;
      return this;
    }

    public TrainOptions build() {
      int routers = stages - 1;
      double[] n = ratioTargets;
      if (n == null) {
        n = new double[routers];
        java.util.Arrays.fill(n, routers == 1 ? 6 : 3);
      }
      double[] mult = lrMultipliers;
      if (mult == null) {
        mult = new double[stages];
        java.util.Arrays.fill(mult, 1.0);
      }
      long warm = warmup != null ? warmup : Math.min(200, steps / 10);
      return new TrainOptions(
          steps,
          batch,
          seqLen,
          accum,
          lr,
          schedule,
          warm,
          mult,
          n,
          alpha,
          weightDecay,
          0.9,
          0.95,
          1e-8,
          clip,
          seed,
          checkpointEvery,
          evalEvery,
          evalBatches,
          evalFraction,
          jsonField,
          sampling,
          ratioFrom,
          alphaFrom,
          ramp,
          null,
          initFrom);
    }
  }

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
    if (extension != null) {
      require(
          extension.at() >= 0 && extension.at() <= steps,
          "extension.at must be a step of the run, got " + extension.at());
      require(
          extension.fromLr() >= 0 && Double.isFinite(extension.fromLr()),
          "extension.fromLr must be a learning rate, got " + extension.fromLr());
    }
  }

  /**
   * These options with {@code newSteps} in all, extended at step {@code at} from a last learning
   * rate of {@code lastLr} (see {@link Extension}).
   */
  public TrainOptions extendedTo(long newSteps, long at, double lastLr) {
    return new TrainOptions(
        newSteps,
        batch,
        seqLen,
        accum,
        lr,
        schedule,
        warmup,
        lrMultipliers,
        ratioTargets,
        alpha,
        weightDecay,
        beta1,
        beta2,
        eps,
        clip,
        seed,
        checkpointEvery,
        evalEvery,
        evalBatches,
        evalFraction,
        jsonField,
        sampling,
        ratioFrom,
        alphaFrom,
        ramp,
        new Extension(at, lastLr),
        initFrom);
  }

  /**
   * The learning rate by step: the schedule over {@link #steps}, re-warmed from where it was when
   * the run was extended (see {@link Extension}).
   */
  public org.hnet.train.optim.LrSchedule learningRate() {
    var plan = org.hnet.train.optim.LrSchedule.parse(schedule, lr, warmup, steps);
    return extension == null
        ? plan
        : org.hnet.train.optim.LrSchedule.rewarmed(
            plan, extension.at(), extension.fromLr(), warmup);
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
