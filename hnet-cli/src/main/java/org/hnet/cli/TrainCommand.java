package org.hnet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.hnet.HNetException;
import org.hnet.analysis.ChunkStats;
import org.hnet.config.HNetConfig;
import org.hnet.train.Evaluator;
import org.hnet.train.TrainOptions;
import org.hnet.train.Trainer;
import org.hnet.train.data.Corpora;
import org.hnet.train.data.Corpus;
import org.hnet.train.data.Sampling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code hnet train}: trains an H-Net from raw bytes; checkpoints, resumes, never loses work. */
@Command(
    name = "train",
    header = "Trains an H-Net on your text; checkpoints, resumes, never loses work.",
    mixinStandardHelpOptions = true,
    description = {
      "Trains an H-Net on a text file, a directory tree or a JSONL file. Without --config and --data it",
      "trains the small demo model on the shipped Moby Dick corpus. Ctrl-C saves a checkpoint and exits;",
      "--resume RUN_DIR continues exactly where the run stopped."
    },
    footer = {
      "",
      "Examples:",
      "  ./hnet train --steps 300                                   # demo: Moby Dick, small 1-stage model",
      "  ./hnet train --config configs/bench/small-2stage.json --ratio 3,3 \\",
      "       --data corpus.jsonl --out runs/two-stage --steps 2000 --batch 8 --seq-len 1024",
      "  ./hnet train --resume runs/two-stage"
    })
final class TrainCommand implements Callable<Integer> {
  static final String DEMO_CONFIG = "demo.json";
  static final String DEMO_CORPUS = "moby-dick.txt.gz";
  static final String DEMO_TEXT = "moby-dick.txt";

  @Spec CommandSpec spec;

  @Option(
      names = "--config",
      paramLabel = "C.json",
      description = "Model config (official H-Net format). Default: the small demo model.")
  Path config;

  @Option(
      names = "--data",
      paramLabel = "PATH",
      description =
          "A text file (.gz ok), a directory tree or a .jsonl file. Default: the shipped Moby Dick.")
  Path data;

  @Option(
      names = "--out",
      paramLabel = "RUN_DIR",
      defaultValue = "runs/demo",
      description = "Run directory (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--resume",
      paramLabel = "RUN_DIR",
      description = "Continue the run in RUN_DIR from its checkpoint, with its options.")
  Path resume;

  // Unset options (null) take the defaults of TrainOptions.builder, which lives in core.

  @Option(
      names = "--steps",
      description = "Optimizer steps (default: " + TrainOptions.DEFAULT_STEPS + ").")
  Long steps;

  @Option(
      names = "--batch",
      description = "Rows per micro-batch (default: " + TrainOptions.DEFAULT_BATCH + ").")
  Integer batch;

  @Option(
      names = "--seq-len",
      description = "Bytes per row (default: " + TrainOptions.DEFAULT_SEQ_LEN + ").")
  Integer seqLen;

  @Option(
      names = "--accum",
      description = "Micro-batches per step (gradient accumulation; default: 1).")
  Integer accum;

  @Option(
      names = "--lr",
      description = "Peak learning rate (default: " + TrainOptions.DEFAULT_LR + ").")
  Double lr;

  @Option(
      names = "--schedule",
      description =
          "wsd (warmup-stable-decay), cosine or constant; wsd:0.2 sets the decay share, cosine:0.1 the final"
              + " ratio (default: "
              + TrainOptions.DEFAULT_SCHEDULE
              + ").")
  String schedule;

  @Option(
      names = "--warmup",
      description = "Warmup steps (default: a tenth of --steps, at most 200).")
  Long warmup;

  @Option(
      names = "--lr-mult",
      split = ",",
      paramLabel = "M0,M1,..",
      description = "Per-stage learning-rate multipliers, outer stage first (default: all 1).")
  double[] lrMult;

  @Option(
      names = "--ratio",
      split = ",",
      paramLabel = "N0,N1,..",
      description =
          "Target compression per routing stage, outer first (default: 6 with one routing stage, 3 each"
              + " with more).")
  double[] ratio;

  @Option(
      names = "--alpha",
      description = "Weight of the ratio losses (default: " + TrainOptions.DEFAULT_ALPHA + ").")
  Double alpha;

  @Option(
      names = "--ratio-from",
      split = ",",
      paramLabel = "N0,N1,..",
      description =
          "Target compression per routing stage at step 0, ramped to --ratio over --ramp steps (the"
              + " boundary rate 1/N moves linearly).")
  double[] ratioFrom;

  @Option(
      names = "--alpha-from",
      paramLabel = "A",
      description = "Weight of the ratio losses at step 0, ramped to --alpha over --ramp steps.")
  Double alphaFrom;

  @Option(
      names = "--ramp",
      paramLabel = "STEPS",
      description =
          "Steps over which --ratio-from and --alpha-from reach --ratio and --alpha (default: none).")
  Long ramp;

  @Option(
      names = "--weight-decay",
      description = "AdamW weight decay (default: " + TrainOptions.DEFAULT_WEIGHT_DECAY + ").")
  Double weightDecay;

  @Option(
      names = "--clip",
      description =
          "Global gradient-norm clip, 0 for none (default: " + TrainOptions.DEFAULT_CLIP + ").")
  Double clip;

  @Option(names = "--seed", description = "Seed of the weights and the data order (default: 0).")
  Long seed;

  @Option(
      names = "--checkpoint-every",
      description =
          "Steps between checkpoints (default: " + TrainOptions.DEFAULT_CHECKPOINT_EVERY + ").")
  Long checkpointEvery;

  @Option(
      names = "--eval-every",
      description =
          "Steps between held-out evaluations (default: " + TrainOptions.DEFAULT_EVAL_EVERY + ").")
  Long evalEvery;

  @Option(
      names = "--eval-batches",
      description =
          "Held-out batches per evaluation, 0 for all (default: "
              + TrainOptions.DEFAULT_EVAL_BATCHES
              + ").")
  Integer evalBatches;

  @Option(
      names = "--eval-fraction",
      description =
          "Share of the corpus held out (default: " + TrainOptions.DEFAULT_EVAL_FRACTION + ").")
  Double evalFraction;

  @Option(names = "--json-field", description = "Text field of JSONL data (default: text).")
  String jsonField;

  @Option(
      names = "--sampling",
      paramLabel = "MODE",
      description = {
        "random: every row a window at a random position of the whole train part (default);",
        "sequential: rows read in order, shuffled within blocks of 1024 rows."
      })
  String sampling;

  @Option(names = "--no-progress", description = "Log lines instead of a progress bar.")
  boolean noProgress;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws IOException {
    threads.apply();
    PrintWriter outw = spec.commandLine().getOut();
    Trainer trainer = resume != null ? Trainer.resume(resume, data) : startNew();
    try (trainer) {
      if (trainer.options.samplingMode() == Sampling.RANDOM && !trainer.corpus().randomAccess()) {
        spec.commandLine()
            .getErr()
            .printf(
                "hnet train: warning: %s: rows are shuffled within %d MB stretches read in order,"
                    + " not drawn from the whole corpus; decompress it for i.i.d. sampling%n",
                trainer.corpus().whyNoRandomAccess(), Corpus.SHUFFLE_BUFFER_BYTES >> 20);
        spec.commandLine().getErr().flush();
      }
      Evaluator.Result last = trainLoop(trainer, outw, noProgress || System.console() == null);
      if (last != null) {
        outw.printf(
            Locale.ROOT,
            "held-out: %.4f bits per byte over %,d bytes; compression %s%s%n",
            last.bpb(),
            last.bytes(),
            Arrays.toString(last.compression()),
            words(last.alignment().length > 0 ? last.alignment()[0] : null));
      }
      outw.printf("run directory: %s (model: %s)%n", trainer.run.root, trainer.run.checkpoint());
      outw.flush();
    }
    return 0;
  }

  private Trainer startNew() throws IOException {
    if (sampling != null && !sampling.equals("random") && !sampling.equals("sequential")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--sampling must be random or sequential, got '" + sampling + "'");
    }
    HNetConfig cfg =
        config != null
            ? HNetConfig.parse(config)
            : HNetConfig.parse(resourceText(DEMO_CONFIG), "demo.json");
    Path dataPath = data;
    if (dataPath == null) {
      // decompressed, so that rows can be drawn at random positions; in the run directory, which
      // is claimed first (a directory that is not a run is refused before anything is written)
      org.hnet.train.RunDir.create(out);
      dataPath = out.resolve(DEMO_TEXT);
      if (!Files.exists(dataPath))
        Corpora.materialize(TrainCommand.class.getClassLoader(), Corpora.MOBY_DICK, out);
    }
    TrainOptions.Builder b = TrainOptions.builder(cfg);
    if (steps != null) b.steps(steps);
    if (batch != null) b.batch(batch);
    if (seqLen != null) b.seqLen(seqLen);
    if (accum != null) b.accum(accum);
    if (lr != null) b.lr(lr);
    if (schedule != null) b.schedule(schedule);
    if (warmup != null) b.warmup(warmup);
    if (lrMult != null) b.lrMultipliers(lrMult);
    if (ratio != null) b.ratio(ratio);
    if (alpha != null) b.alpha(alpha);
    if (ratioFrom != null) b.ratioFrom(ratioFrom);
    if (alphaFrom != null) b.alphaFrom(alphaFrom);
    if (ramp != null) b.ramp(ramp);
    if (weightDecay != null) b.weightDecay(weightDecay);
    if (clip != null) b.clip(clip);
    if (seed != null) b.seed(seed);
    if (checkpointEvery != null) b.checkpointEvery(checkpointEvery);
    if (evalEvery != null) b.evalEvery(evalEvery);
    if (evalBatches != null) b.evalBatches(evalBatches);
    if (evalFraction != null) b.evalFraction(evalFraction);
    if (jsonField != null) b.jsonField(jsonField);
    if (sampling != null) b.sampling(sampling);
    TrainOptions opts = b.build();
    return Trainer.start(out, cfg, dataPath, opts);
  }

  /**
   * Runs the trainer with a progress bar (or log lines), Ctrl-C → checkpoint and exit; returns the
   * last evaluation.
   */
  static Evaluator.Result trainLoop(Trainer trainer, PrintWriter outw, boolean plain) {
    AtomicBoolean stop = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              try {
                finished.await(); // let the loop write its checkpoint before the JVM exits
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "hnet-ctrl-c");
    Runtime.getRuntime().addShutdownHook(hook);
    Evaluator.Result[] last = new Evaluator.Result[1];
    long total = trainer.options.steps();
    ProgressBar bar =
        plain
            ? null
            : new ProgressBarBuilder()
                .setTaskName("train")
                .setInitialMax(total)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setUpdateIntervalMillis(250)
                .showSpeed()
                .build();
    if (bar != null) bar.stepTo(trainer.step());
    try {
      trainer.run(
          new Trainer.Listener() {
            double evalBpb = Double.NaN;
            String evalWords = "";

            @Override
            public void onStep(Trainer.StepMetrics m) {
              String msg =
                  String.format(
                      Locale.ROOT,
                      "loss %.3f bpb %.3f ratio %s %s/s held-out %.3f%s",
                      m.loss(),
                      m.bpb(),
                      ratios(m.compression()),
                      bytes(m.bytesPerSecond()),
                      evalBpb,
                      evalWords);
              if (bar != null) {
                bar.stepTo(m.step());
                bar.setExtraMessage(msg);
              } else if (m.step() % 10 == 0 || m.step() == m.totalSteps() || m.step() == 1) {
                outw.printf(Locale.ROOT, "step %d/%d %s%n", m.step(), m.totalSteps(), msg);
                outw.flush();
              }
            }

            @Override
            public void onEval(long step, long bytes, Evaluator.Result r) {
              evalBpb = r.bpb();
              ChunkStats.Alignment a = r.alignment().length > 0 ? r.alignment()[0] : null;
              evalWords =
                  a == null || a.precision() == null
                      ? ""
                      : String.format(
                          Locale.ROOT,
                          " words %.2f (random %.2f)",
                          a.precision(),
                          a.baselinePrecision());
              last[0] = r;
              if (bar == null) {
                outw.printf(
                    Locale.ROOT,
                    "step %d held-out bpb %.4f compression %s%s%n",
                    step,
                    r.bpb(),
                    ratios(r.compression()),
                    words(a));
                outw.flush();
              }
            }
          },
          stop::get);
    } finally {
      try {
        if (bar != null) bar.close();
        // no chart while the JVM shuts down on a signal (AWT cannot start then); the next run draws
        // it
        if (!stop.get())
          Plots.trainingCurve(trainer.run.metrics(), trainer.run.root.resolve("curve.png"));
      } finally {
        if (stop.get()) {
          // before the latch: once the hook returns the JVM halts
          outw.println(
              "interrupted: checkpoint saved at step "
                  + trainer.step()
                  + "; continue with --resume "
                  + trainer.run.root);
          outw.flush();
        }
        finished.countDown(); // the shutdown hook waits for this: release it whatever happened
        if (!stop.get()) Runtime.getRuntime().removeShutdownHook(hook);
      }
    }
    return last[0];
  }

  /** " word precision P (random B), recall R (random B)", or "" when not measured. */
  static String words(ChunkStats.Alignment a) {
    if (a == null || a.precision() == null || a.recall() == null) return "";
    return String.format(
        Locale.ROOT,
        " word precision %.3f (random %.3f), recall %.3f (random %.3f)",
        a.precision(),
        a.baselinePrecision(),
        a.recall(),
        a.baselineRecall());
  }

  static String ratios(double[] c) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < c.length; i++)
      sb.append(i == 0 ? "" : "/").append(String.format(Locale.ROOT, "%.2f", c[i]));
    return sb.length() == 0 ? "-" : sb.toString();
  }

  static String bytes(double perSecond) {
    return perSecond >= 1e6
        ? String.format(Locale.ROOT, "%.2fMB", perSecond / 1e6)
        : String.format(Locale.ROOT, "%.1fkB", perSecond / 1e3);
  }

  static String resourceText(String name) throws IOException {
    try (InputStream in = TrainCommand.class.getResourceAsStream(name)) {
      if (in == null) throw new HNetException("resource " + name + " is missing from the build");
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
