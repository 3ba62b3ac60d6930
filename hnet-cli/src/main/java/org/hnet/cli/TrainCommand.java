package org.hnet.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
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
      description = {
        "Continue the run in RUN_DIR from its checkpoint, with its options. With --steps, the run's new",
        "total: a finished run trains further, its learning rate re-warming from where it ended."
      })
  Path resume;

  @Option(
      names = "--init-from",
      paramLabel = "MODEL_DIR",
      description = {
        "Fine-tune: start a new run from the weights of MODEL_DIR (a model directory, a run directory or",
        "an official checkpoint), with its config and a fresh optimizer."
      })
  Path initFrom;

  /** What --resume accepts besides itself: everything else is the run's and stays as it was. */
  private static final java.util.Set<String> RESUME_OPTIONS =
      java.util.Set.of(
          "--resume", "--steps", "--data", "--threads", "--no-progress", "--any-bytes", "--debug");

  // Unset options (null) take the defaults of TrainOptions.builder, which lives in core.

  @Option(
      names = "--steps",
      description =
          "Optimizer steps in all (default: "
              + TrainOptions.DEFAULT_STEPS
              + "); with --resume, the run's new total.")
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
      description =
          "Learning-rate multipliers per level, the byte level first (a 1-stage model has 2;"
              + " default: all 1).")
  double[] lrMult;

  @Option(
      names = "--ratio",
      split = ",",
      paramLabel = "N0,N1,..",
      description =
          "Target bytes per chunk (compression) per chunking stage, outer first (default: 6 for a"
              + " 1-stage model, 3 per stage with more).")
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
          "Target compression per chunking stage at step 0, ramped to --ratio over --ramp steps (the"
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

  @Option(
      names = "--any-bytes",
      description = "Train on files that do not look like text (by default they are refused).")
  boolean anyBytes;

  @Option(names = "--no-progress", description = "Log lines instead of a progress bar.")
  boolean noProgress;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() throws IOException {
    threads.apply();
    PrintWriter outw = spec.commandLine().getOut();
    Trainer trainer = resume != null ? resumeRun(outw) : startNew();
    if (trainer == null) return 0;
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
            "held-out: %s over %,d bytes%s%s%n",
            Numbers.bpb(last.bpb()),
            last.bytes(),
            last.compression().length == 0 ? "" : "; " + Numbers.compression(last.compression()),
            words(last.alignment().length > 0 ? last.alignment()[0] : null));
        outw.println("  for comparison: " + heldOutBaselines(trainer).toText(last.bpb()));
      }
      outw.printf("run directory: %s (model: %s)%n", trainer.run.root, trainer.run.checkpoint());
      outw.flush();
    }
    return 0;
  }

  /**
   * The run to continue, after saying what will happen; null (after saying so) when it has nothing
   * left to train.
   */
  private Trainer resumeRun(PrintWriter outw) {
    for (var o : spec.commandLine().getParseResult().matchedOptions()) {
      if (!RESUME_OPTIONS.contains(o.longestName())) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(),
            o.longestName()
                + " cannot be combined with --resume: a run keeps the options it started with"
                + " (--resume takes --steps, --data, --threads and --no-progress)");
      }
    }
    if (steps != null && steps < 1)
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--steps must be at least 1, got " + steps);
    Trainer t = preparing(() -> Trainer.resume(resume, data, steps));
    TrainOptions o = t.options;
    if (t.step() >= o.steps()) {
      t.close();
      outw.printf(
          "hnet train: the run in %s has trained all its %d steps; to train further give its new"
              + " total, e.g. --resume %s --steps %d%n",
          resume, o.steps(), resume, o.steps() * 2);
      outw.flush();
      return null;
    }
    if (o.extension() != null && o.extension().at() == t.step() && steps != null) {
      double to = o.learningRate().lr(t.step() + Math.max(0, o.warmup() - 1));
      outw.printf(
          Locale.ROOT,
          "hnet train: %s the run in %s to %d steps (from step %d): the learning rate goes from"
              + " %.3g to the %s schedule of %d steps (%.3g) over %d warmup steps%n",
          steps > t.step() ? "extending" : "shortening",
          resume,
          o.steps(),
          t.step(),
          o.extension().fromLr(),
          o.schedule(),
          o.steps(),
          to,
          o.warmup());
    } else {
      outw.printf(
          "hnet train: continuing the run in %s from step %d of %d%n", resume, t.step(), o.steps());
    }
    outw.flush();
    return t;
  }

  private Trainer startNew() throws IOException {
    if (sampling != null && !sampling.equals("random") && !sampling.equals("sequential")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--sampling must be random or sequential, got '" + sampling + "'");
    }
    HNetConfig cfg;
    if (initFrom != null) {
      if (config != null) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(),
            "--config cannot be combined with --init-from: fine-tuning keeps the model's config");
      }
      cfg = org.hnet.HNetModel.load(initFrom).model().config;
    } else {
      cfg =
          config != null
              ? HNetConfig.parse(config)
              : HNetConfig.parse(resourceText(DEMO_CONFIG), "demo.json");
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
    if (initFrom != null) b.initFrom(initFrom.toString());
    TrainOptions opts;
    try {
      // the options name the flag they came from: a mistake in them is a usage error
      opts = b.build();
      Trainer.checkOptions(cfg, opts);
    } catch (HNetException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if (data != null) {
      if (!anyBytes && Files.exists(data)) {
        Trainer.checkNotInside(out, data); // that error first: it says what to change
        org.hnet.train.data.Corpus.requireText(data);
      }
      return preparing(() -> Trainer.start(out, initFrom != null ? null : cfg, data, opts));
    }
    // the demo corpus, decompressed so that rows can be drawn at random positions, in the run
    // directory, which is claimed first (a directory that is not a run is refused before anything
    // is written); removed with the directory if the run cannot start
    boolean existed = Files.exists(out);
    org.hnet.train.RunDir made = org.hnet.train.RunDir.create(out);
    try {
      if (!Files.exists(out.resolve(DEMO_TEXT)))
        Corpora.materialize(TrainCommand.class.getClassLoader(), Corpora.MOBY_DICK, out);
      return Trainer.start(out, initFrom != null ? null : cfg, out.resolve(DEMO_TEXT), opts);
    } catch (RuntimeException e) {
      if (!existed) made.removeNew(DEMO_TEXT);
      throw e;
    }
  }

  /**
   * Opening the corpus (a JSONL index is built on first use) and loading a checkpoint: a spinner
   * while it lasts, on a terminal.
   */
  private Trainer preparing(java.util.function.Supplier<Trainer> open) {
    try (Progress p = Progress.spinner("preparing the run", !noProgress)) {
      return open.get();
    }
  }

  /**
   * Runs the trainer with a progress bar (or log lines), Ctrl-C → checkpoint and exit; returns the
   * last evaluation. curve.png is redrawn at every checkpoint, so that an interrupted run has one.
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
    Path curve = trainer.run.root.resolve("curve.png");
    Plots.warmUp(); // so that the chart can still be drawn when Ctrl-C shuts the JVM down
    Progress bar = Progress.start("train", trainer.options.steps(), trainer.step(), "", !plain);
    try (bar) {
      trainer.run(
          new Trainer.Listener() {
            String evalBpb = "–", evalWords = null; // "–": not measured yet

            @Override
            public void onStep(Trainer.StepMetrics m) {
              String[] f = {
                String.format(Locale.ROOT, "loss %.3f", m.loss()),
                "held-out " + evalBpb,
                String.format(Locale.ROOT, "train %.3f bpb", m.bpb()),
                m.compression().length == 0 ? null : Numbers.compression(m.compression()),
                Numbers.rate(m.bytesPerSecond()),
                evalWords
              };
              String[] shown =
                  java.util.Arrays.stream(f).filter(x -> x != null).toArray(String[]::new);
              if (bar.shown()) {
                bar.stepTo(m.step());
                bar.fields(shown);
              } else if (m.step() % 10 == 0 || m.step() == m.totalSteps() || m.step() == 1) {
                outw.printf(
                    Locale.ROOT,
                    "step %d/%d  %s%n",
                    m.step(),
                    m.totalSteps(),
                    String.join("  ", java.util.Arrays.copyOf(shown, Math.min(shown.length, 5))));
                outw.flush();
              }
            }

            @Override
            public void onEval(long step, long bytes, Evaluator.Result r) {
              evalBpb = String.format(Locale.ROOT, "%.3f bpb", r.bpb());
              ChunkStats.Alignment a = r.alignment().length > 0 ? r.alignment()[0] : null;
              evalWords =
                  a == null || a.precision() == null
                      ? null
                      : String.format(
                          Locale.ROOT,
                          "words %.2f (random %.2f)",
                          a.precision(),
                          a.baselinePrecision());
              last[0] = r;
              drawCurve();
              if (!bar.shown()) {
                outw.printf(
                    Locale.ROOT,
                    "step %d  held-out %s%s%s%n",
                    step,
                    Numbers.bpb(r.bpb()),
                    r.compression().length == 0 ? "" : "  " + Numbers.compression(r.compression()),
                    words(a));
                outw.flush();
              }
            }

            @Override
            public void onCheckpoint(long step) {
              drawCurve();
            }

            void drawCurve() {
              try {
                Plots.trainingCurve(trainer.run.metrics(), curve);
              } catch (RuntimeException | Error e) {
                // a chart is a convenience: never let it stop a run
              }
            }
          },
          stop::get);
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
    return last[0];
  }

  /** The baselines over the bytes the run's evaluations score (the first eval batches). */
  static Baselines.Result heldOutBaselines(Trainer t) {
    TrainOptions o = t.options;
    // as many batches of bytes as the model's eval batches hold text (more for a token model)
    int batches = (int) Math.ceil(Math.max(1, o.evalBatches()) * t.bytesPerPosition());
    Baselines b = new Baselines((long) o.batch() * o.seqLen() * batches);
    int n = 0;
    for (org.hnet.train.data.Batch batch : t.corpus().eval(o.batch(), o.seqLen())) {
      if (o.evalBatches() > 0 && n++ >= batches) break;
      b.addScored(batch);
    }
    return b.finish();
  }

  /** "; word precision P (random B), recall R (random B)", or "" when not measured. */
  static String words(ChunkStats.Alignment a) {
    if (a == null || a.precision() == null || a.recall() == null) return "";
    return String.format(
        Locale.ROOT,
        "; word precision %.3f (random %.3f), recall %.3f (random %.3f)",
        a.precision(),
        a.baselinePrecision(),
        a.recall(),
        a.baselineRecall());
  }

  static String resourceText(String name) throws IOException {
    try (InputStream in = TrainCommand.class.getResourceAsStream(name)) {
      if (in == null) throw new HNetException("resource " + name + " is missing from the build");
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }
}
