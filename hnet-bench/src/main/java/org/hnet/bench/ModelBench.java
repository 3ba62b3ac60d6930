package org.hnet.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.hnet.config.HNetConfig;
import org.hnet.kernels.Parallel;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Init;
import org.hnet.nn.Params;
import org.hnet.nn.SeqLens;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The model's two steady-state loops on the small-1stage benchmark model (random weights, {@code
 * Init.weights(cfg, 0)}, as {@code hnet bench --config}): one decode step of R rows through the
 * caches, and one training step (forward + backward of CE + 0.03·Σ ratio losses with N = 3, no
 * optimizer) on 4 × 1024 bytes. Their interest is the allocation rate per operation ({@code
 * gc.alloc.rate.norm}, bytes/op), which timing noise does not affect:
 *
 * <pre>
 * java --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar ModelBench.decodeStep -prof gc -f 1 -wi 2 -i 3 -w 1 -r 2
 * java --add-modules=jdk.incubator.vector -jar hnet-bench/target/benchmarks.jar ModelBench.trainStep -prof gc -f 1 -wi 12 -i 3 -w 1 -r 2
 * </pre>
 *
 * A training step takes seconds, so an iteration is one or two of them: it needs a dozen warm-up
 * iterations before the JIT has compiled every kernel (until then vector code run by the
 * interpreter or C1 allocates every vector it computes, hundreds of MB per step).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
public class ModelBench {
  static final String CONFIG = "small-1stage.json";
  static final int TRAIN_B = 4, TRAIN_L = 1024, PROMPT = 256;

  /** The small-1stage model with random weights (built once per trial). */
  static HNetForCausalLM model() {
    try (InputStream in = ModelBench.class.getResourceAsStream(CONFIG)) {
      HNetConfig cfg =
          HNetConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), CONFIG);
      Map<String, float[]> w = Init.weights(cfg, 0);
      return new HNetForCausalLM(cfg, new Params(w::get));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** n bytes of text-like input: words from a fixed list in a fixed pseudo-random order. */
  static int[] text(int n, long seed) {
    String[] words = {
      "the",
      "whale",
      "sea",
      "of",
      "and",
      "Ahab",
      "ship",
      "a",
      "to",
      "in",
      "white",
      "that",
      "his",
      "it",
      "harpoon",
      "captain",
      "deck",
      "was",
      "with",
      "Ishmael,",
      "boat",
      "water."
    };
    SplittableRandom r = new SplittableRandom(seed);
    StringBuilder sb = new StringBuilder();
    while (sb.length() < n) sb.append(words[r.nextInt(words.length)]).append(' ');
    byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) ids[i] = b[i] & 0xff;
    return ids;
  }

  /**
   * A decode state in steady state: the cache is allocated once and a 256-byte prompt prefilled per
   * row; every operation feeds one byte to every row. The cache is refilled (prefilled again)
   * between iterations when the next one could run past its positions; a refill allocates (the
   * prefill's buffers are not kept) and JMH counts it in that iteration, so the caches are long
   * enough for the whole run of the command below.
   */
  @State(Scope.Benchmark)
  public static class Decode {
    @Param({"1", "8"})
    int rows;

    @Param({"2"})
    int threads;

    HNetForCausalLM lm;
    HNetForCausalLM.Cache cache;
    int maxLen; // room for the steps of a whole short run, so that no refill lands in it
    int[] prompt, stream, tok;
    boolean[] all;
    int pos; // steps taken since the prefill
    int mark, longest; // pos at the start of the last iteration; the most steps one iteration took

    @Setup(Level.Trial)
    public void setup() {
      Parallel.setThreads(threads);
      lm = model();
      maxLen = rows == 1 ? 8192 : 4096; // the KV caches: 100 MB at batch 1, 400 MB at batch 8
      cache = lm.allocate(rows, maxLen);
      prompt = text(rows * PROMPT, 1);
      stream = text(maxLen, 2);
      tok = new int[rows];
      all = new boolean[rows];
      Arrays.fill(all, true);
      refill();
    }

    /**
     * Refills when the next iteration might not fit: it may take 2.5× the longest so far (1 s
     * warm-up, 2 s measured).
     */
    @Setup(Level.Iteration)
    public void iteration() {
      longest = Math.max(longest, pos - mark);
      if (PROMPT + pos + Math.max(256, 5 * longest / 2) > maxLen) refill();
      mark = pos;
    }

    void refill() {
      lm.prefill(prompt, SeqLens.uniform(rows, PROMPT), cache);
      pos = 0;
    }
  }

  @Benchmark
  public float[] decodeStep(Decode s) {
    if (PROMPT + s.pos >= s.maxLen)
      throw new IllegalStateException(
          "an iteration ran past the decode cache: shorten the iterations (-r)");
    int b = s.stream[s.pos++];
    for (int r = 0; r < s.rows; r++) s.tok[r] = b;
    return s.lm.step(s.tok, s.cache, s.all).logits();
  }

  /** One training batch of 4 × 1024 bytes with its next-byte targets. */
  @State(Scope.Benchmark)
  public static class Train {
    @Param({"2"})
    int threads;

    HNetForCausalLM lm;
    org.hnet.train.Objective objective;
    int[] tokens, targets;
    SeqLens seqs;
    double[] n;

    @Setup(Level.Trial)
    public void setup() {
      Parallel.setThreads(threads);
      lm = model();
      tokens = text(TRAIN_B * TRAIN_L, 3);
      targets = new int[tokens.length];
      for (int t = 0; t < targets.length; t++)
        targets[t] = (t + 1) % TRAIN_L == 0 ? -1 : tokens[t + 1];
      seqs = SeqLens.uniform(TRAIN_B, TRAIN_L);
      n = new double[lm.config.numStages() - 1];
      Arrays.fill(n, 3.0);
      for (org.hnet.nn.Param p : lm.parameters.values()) p.gradBuffer();
      objective = new org.hnet.train.Objective(lm);
    }
  }

  /** Forward + backward; the gradients accumulate (zeroing them is the optimizer's side). */
  @Benchmark
  public double trainStep(Train s) {
    return s.objective.lossAndGradients(s.tokens, s.targets, s.seqs, s.n, 0.03).total();
  }
}
