package org.hnet.train;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Init;
import org.hnet.nn.Param;
import org.hnet.nn.Params;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import org.hnet.train.data.Batch;
import org.hnet.train.data.BatchStream;
import org.hnet.train.data.BpeTokenizer;
import org.hnet.train.data.Corpus;
import org.hnet.train.data.DataState;
import org.hnet.train.data.TokenCorpus;
import org.hnet.train.optim.AdamW;
import org.hnet.train.optim.Gradients;
import org.hnet.train.optim.LrSchedule;

/**
 * The training loop: micro-batches → loss and gradients → (accumulate) → clip → AdamW at the
 * scheduled learning rate; metrics every step, held-out bits per byte every {@code evalEvery}
 * steps, a checkpoint every {@code checkpointEvery} steps and when asked to stop. A run resumed
 * from its checkpoint continues bit for bit as if it had not been interrupted: the weights,
 * optimizer moments, step count and data position are all restored, and every kernel is
 * deterministic.
 */
public final class Trainer implements AutoCloseable {
  public final RunDir run;
  public final HNetConfig config;
  public final HNetForCausalLM model;
  public final TrainOptions options;
  private final Corpus corpus;
  private final TokenCorpus tokens; // null for a byte-level model
  private final BatchStream stream;
  private final AdamW optimizer;
  private final LrSchedule schedule;
  private final List<Param> params;
  private final Objective objective;
  private long step;
  private long trainedBytes;

  /** What the loop reports. */
  public interface Listener {
    default void onStep(StepMetrics m) {}

    default void onEval(long step, long trainedBytes, Evaluator.Result r) {}

    default void onCheckpoint(long step) {}
  }

  /** One optimizer step's numbers. */
  public record StepMetrics(
      long step,
      long totalSteps,
      double loss,
      double ce,
      double[] ratioLoss,
      double[] compression,
      double lr,
      double gradNorm,
      long trainedBytes,
      double bytesPerSecond,
      double bytesPerTarget) {
    /** Bits per byte of the step's batches (a token-level model's per token over its bytes). */
    public double bpb() {
      return ce / Math.log(2) / bytesPerTarget;
    }

    /** One JSON object; a number that is not finite (a diverged step) is written as null. */
    public String toJson() {
      StringBuilder sb = new StringBuilder();
      sb.append(
          String.format(
              Locale.ROOT,
              "{\"step\": %d, \"loss\": %s, \"ce\": %s, \"bpb\": %s, \"lr\": %s, \"grad_norm\": %s, \"bytes\": %d, \"bytes_per_s\": %s",
              step,
              num("%.6f", loss),
              num("%.6f", ce),
              num("%.6f", bpb()),
              num("%.6g", lr),
              num("%.6g", gradNorm),
              trainedBytes,
              num("%.1f", bytesPerSecond)));
      sb.append(", \"ratio_loss\": ")
          .append(array(ratioLoss))
          .append(", \"compression\": ")
          .append(array(compression))
          .append('}');
      return sb.toString();
    }
  }

  private static String num(String format, double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "null";
  }

  static String array(double[] v) {
    StringBuilder sb = new StringBuilder("[");
    for (int i = 0; i < v.length; i++) {
      if (i > 0) sb.append(", ");
      sb.append(Double.isFinite(v[i]) ? String.format(Locale.ROOT, "%.6g", v[i]) : "null");
    }
    return sb.append(']').toString();
  }

  /**
   * Starts a new run in {@code runDir}: a new or empty directory, or a run of hnet's that holds no
   * checkpoint yet ({@link RunDir#create}). Everything that can be checked is checked before the
   * directory is made; if the corpus then cannot be opened, the directory made here is removed.
   */
  public static Trainer start(Path runDir, HNetConfig cfg, Path data, TrainOptions opts) {
    HNetForCausalLM init = null;
    if (opts.initFrom() != null) {
      // fine-tuning: the weights (and so the config) of a model directory, a fresh optimizer
      init = HNetForCausalLM.load(org.hnet.HNetModel.modelDirectory(Path.of(opts.initFrom())));
      if (cfg != null && !cfg.toJson().equals(init.config.toJson())) {
        throw new HNetException(
            opts.initFrom()
                + ": its config differs from the one given; fine-tuning keeps the model's config"
                + " (leave out --config)");
      }
      cfg = init.config;
    }
    checkOptions(cfg, opts); // fail before writing anything
    if (!Files.exists(data)) throw new HNetException(data + ": no such file or directory (--data)");
    checkNotInside(runDir, data);
    boolean existed = Files.exists(runDir);
    RunDir run = RunDir.create(runDir);
    Corpus corpus;
    try {
      corpus = Corpus.open(data, opts.evalFraction(), opts.jsonField(), run.dataIndex());
    } catch (RuntimeException e) {
      if (!existed) run.removeNew();
      throw e;
    }
    try {
      RunDir.writeString(run.options(), opts.toJson());
      writeDataPath(runDir, data);
      HNetForCausalLM lm = init;
      if (lm == null) {
        java.util.Map<String, float[]> w = Init.weights(cfg, opts.seed());
        lm = new HNetForCausalLM(cfg, new Params(w::get));
      }
      TokenCorpus tokens = tokens(cfg, corpus, opts);
      BatchStream stream =
          tokens != null
              ? tokens.train(opts.batch(), opts.seqLen(), opts.seed())
              : corpus.train(opts.batch(), opts.seqLen(), opts.seed(), opts.samplingMode());
      return new Trainer(run, cfg, lm, opts, corpus, tokens, stream, null, 0, 0, 0);
    } catch (RuntimeException e) {
      corpus.close();
      if (!existed) run.removeNew(); // e.g. a corpus a token-level model cannot read as text
      throw e;
    }
  }

  /** A token-level model's view of the corpus (tokenized once), or null for bytes. */
  private static TokenCorpus tokens(HNetConfig cfg, Corpus corpus, TrainOptions opts) {
    if (cfg.tokenizer() == null) return null;
    if (opts.samplingMode() != org.hnet.train.data.Sampling.RANDOM) {
      throw new HNetException(
          "--sampling sequential: a token-level model draws its rows at random windows only");
    }
    return new TokenCorpus(
        corpus, BpeTokenizer.of(cfg.tokenizer(), cfg.vocabSize(), "the model's config"));
  }

  /**
   * data.txt: the corpus path relative to the run directory (so that a run moved together with its
   * data, or holding it, as the demo's does, still finds it), then the absolute path (so that a run
   * moved alone still finds it).
   */
  private static void writeDataPath(Path runDir, Path data) {
    Path abs = data.toAbsolutePath().normalize();
    String rel;
    try {
      rel = runDir.toAbsolutePath().normalize().relativize(abs).toString();
    } catch (IllegalArgumentException e) {
      rel = abs.toString(); // another root: only the absolute path can name it
    }
    RunDir.writeString(runDir.resolve("data.txt"), rel + "\n" + abs + "\n");
  }

  /** The corpus that data.txt names: relative to the run first, else the absolute path. */
  private static Path readDataPath(Path runDir) {
    Path f = runDir.resolve("data.txt");
    java.util.List<String> lines;
    try {
      lines = Files.readAllLines(f).stream().map(String::strip).filter(l -> !l.isEmpty()).toList();
    } catch (java.io.IOException e) {
      throw new HNetException(f + ": cannot read the run's data path (give --data)");
    }
    if (lines.isEmpty()) throw new HNetException(f + ": empty (give --data)");
    for (String l : lines) {
      Path p = runDir.resolve(l);
      if (Files.exists(p)) return p;
    }
    throw new HNetException(
        "the run's training data "
            + String.join(" or ", lines)
            + " (recorded in "
            + f
            + ") is gone: give its new place with --data");
  }

  /**
   * The run directory must not be the data or inside it (its checkpoints would become training
   * documents).
   */
  public static void checkNotInside(Path runDir, Path data) {
    Path r = runDir.toAbsolutePath().normalize(), d = data.toAbsolutePath().normalize();
    if (r.startsWith(d)) {
      throw new HNetException(
          runDir
              + ": the run directory is "
              + (r.equals(d) ? "" : "inside ")
              + "the training data "
              + data
              + ": give another --out");
    }
  }

  /**
   * Continues the run in {@code runDir} from its newest checkpoint, with its saved options. The
   * checkpoint, the options and the data position are all checked before anything in the directory
   * changes.
   */
  public static Trainer resume(Path runDir, Path dataOverride) {
    return resume(runDir, dataOverride, null);
  }

  /**
   * As {@link #resume(Path, Path)}, with {@code newSteps} (when not null) as the run's new total:
   * more steps than the run had extends it, and the learning rate follows the schedule of the new
   * total, re-warmed over the warmup steps from the rate of the last step taken ({@link
   * TrainOptions.Extension}); fewer ends it early (not before the step it has reached), moving to
   * the shorter schedule the same way.
   */
  public static Trainer resume(Path runDir, Path dataOverride, Long newSteps) {
    RunDir run = new RunDir(runDir);
    RunDir.Loaded ck = run.load();
    TrainOptions opts;
    try {
      opts = TrainOptions.fromJson(Files.readString(run.options()), run.options().toString());
    } catch (java.io.IOException e) {
      throw new HNetException(run.options() + ": cannot read: " + e.getMessage());
    }
    DataState dataState = DataState.fromJson(ck.state().dataState());
    checkState(ck, opts, dataState);
    long at = ck.state().step();
    TrainOptions newOpts = opts;
    if (newSteps != null && newSteps != opts.steps()) {
      if (newSteps < at) {
        throw new HNetException(
            "--steps "
                + newSteps
                + ": the run in "
                + runDir
                + " has trained "
                + at
                + " steps already");
      }
      double lastLr = at == 0 ? 0 : opts.learningRate().lr(at - 1);
      newOpts = opts.extendedTo(newSteps, at, lastLr);
      newOpts.learningRate();
    }
    Path data = dataOverride != null ? dataOverride : readDataPath(runDir);
    Corpus corpus = Corpus.open(data, opts.evalFraction(), opts.jsonField(), run.dataIndex());
    Trainer t;
    try {
      TokenCorpus tokens = tokens(ck.config(), corpus, opts);
      BatchStream stream =
          tokens != null
              ? tokens.train(opts.batch(), opts.seqLen(), dataState)
              : corpus.train(opts.batch(), opts.seqLen(), dataState);
      if (newOpts != opts) RunDir.writeString(run.options(), newOpts.toJson());
      if (dataOverride != null) writeDataPath(runDir, dataOverride);
      t =
          new Trainer(
              run,
              ck.config(),
              ck.model(),
              newOpts,
              corpus,
              tokens,
              stream,
              ck.optimizerState(),
              ck.optimizerSteps(),
              at,
              ck.state().trainedBytes());
      run.settle(ck);
      run.truncateMetricsAfter(at);
    } catch (RuntimeException e) {
      corpus.close();
      throw e;
    }
    return t;
  }

  /** The checkpoint's counters agree with each other and with the run's options. */
  private static void checkState(RunDir.Loaded ck, TrainOptions opts, DataState data) {
    Path f = ck.dir().resolve("state.json");
    long step = ck.state().step();
    if (step > opts.steps()) {
      throw new HNetException(
          f + ": step " + step + " is past the run's " + opts.steps() + " steps (options.json)");
    }
    long rows = step * opts.accum() * opts.batch();
    if (ck.state().trainedBytes() != rows * opts.seqLen()) {
      throw new HNetException(
          f
              + ": trained_bytes "
              + ck.state().trainedBytes()
              + " is not what "
              + step
              + " steps of the run's options read ("
              + rows * opts.seqLen()
              + ")");
    }
    if (data.seqLen() != opts.seqLen()) {
      throw new HNetException(
          f
              + ": the data position is for rows of "
              + data.seqLen()
              + " bytes, the run's are "
              + opts.seqLen());
    }
    if (data.sampling() == org.hnet.train.data.Sampling.RANDOM && data.row() != rows) {
      throw new HNetException(
          f
              + ": the data position has drawn "
              + data.row()
              + " rows, "
              + step
              + " steps draw "
              + rows);
    }
  }

  private Trainer(
      RunDir run,
      HNetConfig cfg,
      HNetForCausalLM lm,
      TrainOptions opts,
      Corpus corpus,
      TokenCorpus tokens,
      BatchStream stream,
      java.util.Map<String, float[]> optState,
      long optSteps,
      long step,
      long trainedBytes) {
    this.run = run;
    this.config = cfg;
    this.model = lm;
    this.options = opts;
    this.corpus = corpus;
    this.tokens = tokens;
    this.stream = stream;
    this.params = new ArrayList<>(lm.parameters.values());
    this.objective = new Objective(lm);
    this.optimizer =
        new AdamW(
            params,
            opts.beta1(),
            opts.beta2(),
            opts.eps(),
            opts.weightDecay(),
            opts.lrMultipliers());
    if (optState != null) optimizer.loadState(optState, optSteps);
    this.schedule = opts.learningRate();
    this.step = step;
    this.trainedBytes = trainedBytes;
  }

  /** The options fit the model and their schedule parses; throws naming the flag otherwise. */
  public static void checkOptions(HNetConfig cfg, TrainOptions opts) {
    checkStages(cfg, opts);
    if (opts.lrMultipliers().length != cfg.numStages()) {
      throw new HNetException(
          "the model has "
              + cfg.numStages()
              + " levels (bytes, then one per chunking stage): give "
              + cfg.numStages()
              + " learning-rate multipliers with --lr-mult, got "
              + opts.lrMultipliers().length);
    }
    opts.learningRate();
  }

  private static void checkStages(HNetConfig cfg, TrainOptions opts) {
    int routers = cfg.numStages() - 1;
    if (opts.ratioTargets().length != routers) {
      throw new HNetException(
          "the model has "
              + routers
              + " chunking stage(s): give "
              + routers
              + " ratio target(s) with --ratio (e.g. "
              + (routers == 2 ? "3,3" : "6")
              + "), got "
              + opts.ratioTargets().length);
    }
  }

  public long step() {
    return step;
  }

  public Corpus corpus() {
    return corpus;
  }

  /** The held-out batches the run evaluates on: rows of the options' length, bytes or tokens. */
  public Iterable<Batch> evalBatches() {
    return tokens != null
        ? tokens.eval(options.batch(), options.seqLen())
        : corpus.eval(options.batch(), options.seqLen());
  }

  /**
   * Text bytes a row position stands for: 1 for a byte-level model, the train part's mean bytes per
   * token for a token-level one.
   */
  public double bytesPerPosition() {
    return tokens != null ? tokens.bytesPerToken() : 1;
  }

  /** Text bytes trained on so far (for a token-level model, positions × bytes per token). */
  private long textBytes() {
    return tokens != null ? Math.round(trainedBytes * bytesPerPosition()) : trainedBytes;
  }

  /**
   * Trains until {@code options.steps()} or until {@code stop} says so (checked after every step);
   * either way the last state is checkpointed before returning.
   */
  public void run(Listener listener, BooleanSupplier stop) {
    checkStages(config, options);
    long lastSaved = step;
    while (step < options.steps()) {
      long t0 = System.nanoTime();
      Gradients.zero(params);
      double loss = 0, ce = 0;
      double[] ratio = new double[config.numStages() - 1];
      long[] positions = new long[ratio.length], boundaries = new long[ratio.length];
      long targets = 0, targetBytes = 0;
      double[] ratioNow = options.ratioAt(step);
      double alphaNow = options.alphaAt(step);
      for (int micro = 0; micro < options.accum(); micro++) {
        Batch b = stream.next();
        SeqLens seqs = new SeqLens(b.cuSeqlens());
        Objective.Losses l =
            objective.lossAndGradients(b.tokens(), b.targets(), seqs, ratioNow, alphaNow);
        loss += l.total() / options.accum();
        ce += l.ce() / options.accum();
        for (int s = 0; s < ratio.length; s++) {
          ratio[s] += l.ratio()[s] / options.accum();
          RoutingModule.Output r = l.output().routing().get(s);
          positions[s] += r.boundaryProb().length;
          boundaries[s] += r.boundaries();
        }
        trainedBytes += (long) b.B() * b.L();
        targets += b.predicted();
        targetBytes += b.bytes();
      }
      if (options.accum() > 1) Gradients.scale(params, 1f / options.accum());
      double norm =
          options.clip() > 0
              ? Gradients.clipGlobalNorm(params, options.clip())
              : Gradients.globalNorm(params);
      if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
        // no update, no checkpoint: the one on disk is the last good state
        run.appendMetrics(
            new StepMetrics(
                    step + 1,
                    options.steps(),
                    loss,
                    ce,
                    ratio,
                    new double[ratio.length],
                    schedule.lr(step),
                    norm,
                    textBytes(),
                    Double.NaN,
                    targetBytes == 0 ? 1 : (double) targetBytes / targets)
                .toJson());
        Path last = run.latestCheckpoint();
        throw new HNetException(
            String.format(
                Locale.ROOT,
                "training diverged at step %d: loss %s, gradient norm %s; %s",
                step + 1,
                loss,
                norm,
                last == null
                    ? "no checkpoint was written yet"
                    : "the checkpoint of step " + lastSaved + " in " + last + " is kept"));
      }
      double lr = schedule.lr(step);
      optimizer.step(lr);
      step++;
      double seconds = (System.nanoTime() - t0) / 1e9;
      double[] compression = new double[ratio.length];
      for (int s = 0; s < ratio.length; s++)
        compression[s] = boundaries[s] == 0 ? Double.NaN : (double) positions[s] / boundaries[s];
      StepMetrics m =
          new StepMetrics(
              step,
              options.steps(),
              loss,
              ce,
              ratio,
              compression,
              lr,
              norm,
              textBytes(),
              options.accum() * options.batch() * options.seqLen() * bytesPerPosition() / seconds,
              targetBytes == 0 ? 1 : (double) targetBytes / targets);
      run.appendMetrics(m.toJson());
      listener.onStep(m);
      boolean last = step == options.steps();
      if ((options.evalEvery() > 0 && step % options.evalEvery() == 0) || last) evaluate(listener);
      if (step % options.checkpointEvery() == 0 || last || stop.getAsBoolean()) {
        checkpoint();
        lastSaved = step;
        listener.onCheckpoint(step);
      }
      if (stop.getAsBoolean()) break;
    }
    if (lastSaved != step) {
      checkpoint();
      listener.onCheckpoint(step);
    }
  }

  /** Held-out bits per byte now; appended to metrics.jsonl as an "eval" line. */
  public Evaluator.Result evaluate(Listener listener) {
    Evaluator.Result r = Evaluator.evaluate(model, evalBatches(), options.evalBatches());
    // training FLOPs per byte at the compression just measured (the same count for every model)
    double flops =
        org.hnet.config.FlopCount.trainingPerByte(config, finite(r.compression()), options.seqLen())
            / bytesPerPosition();
    run.appendMetrics(
        String.format(
            Locale.ROOT,
            "{\"step\": %d, \"bytes\": %d, \"flops_per_byte\": %.6g, \"eval\": %s}",
            step,
            textBytes(),
            flops,
            r.toJson()));
    listener.onEval(step, textBytes(), r);
    return r;
  }

  /** Compressions with a stage that chose no boundary (NaN) counted as one chunk per row. */
  private double[] finite(double[] c) {
    double[] out = c.clone();
    for (int i = 0; i < out.length; i++) if (!Double.isFinite(out[i])) out[i] = options.seqLen();
    return out;
  }

  public void checkpoint() {
    run.save(
        config,
        model,
        optimizer.stateTensors(),
        optimizer.stepCount(),
        new RunDir.State(step, stream.state().toJson(), trainedBytes));
  }

  @Override
  public void close() {
    corpus.close();
  }
}
