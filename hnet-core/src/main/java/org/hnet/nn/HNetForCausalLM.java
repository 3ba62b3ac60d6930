package org.hnet.nn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.Checkpoints;
import org.hnet.io.DType;
import org.hnet.io.TensorData;
import org.hnet.kernels.Matmul;
import org.hnet.tensor.Arena;

/** The byte-level language model: embeddings → H-Net stage 0 → LM head (tied or not). */
public final class HNetForCausalLM {
  public final HNetConfig config;
  public final Param embeddings; // (V, d0)
  public final HNet backbone;
  public final Param lmHead; // (V, d0); the same Param as embeddings when tied
  public final Map<String, Param> parameters;
  public final int vocab;
  public final int d0;

  public HNetForCausalLM(HNetConfig config, Params ps) {
    this.config = config;
    this.vocab = config.vocabSize();
    this.d0 = config.stage(0).dModel();
    this.embeddings = ps.take("embeddings.weight", -1, true, vocab, d0);
    this.backbone = new HNet(ps, "backbone", config, 0);
    this.lmHead =
        config.tieEmbeddings() ? embeddings : ps.take("lm_head.weight", -1, true, vocab, d0);
    this.parameters = ps.all();
    this.weightFormat = ps.format();
  }

  /** How the large products' weights are held; training needs {@link WeightFormat#F32}. */
  public final WeightFormat weightFormat;

  /**
   * Loads {@code config.json} and {@code model.safetensors} (or {@code model.pt}) from a directory.
   */
  public static HNetForCausalLM load(Path dir) {
    return load(dir, null);
  }

  /**
   * As {@link #load(Path)}, with the large products' weights held in {@code format} (null: as the
   * file stores them: the format {@code hnet quantize} recorded, else float32).
   */
  public static HNetForCausalLM load(Path dir, WeightFormat format) {
    Path cfgFile = dir.resolve("config.json");
    if (!java.nio.file.Files.isRegularFile(cfgFile)) {
      // what the path is, and what a model directory holds
      String what =
          !java.nio.file.Files.exists(dir)
              ? "no such directory"
              : !java.nio.file.Files.isDirectory(dir)
                  ? "is a file, not a model directory"
                  : "has no config.json";
      throw new HNetException(
          dir
              + ": "
              + what
              + " (a model directory holds config.json and model.safetensors or model.pt;"
              + " a training run directory holds one in checkpoint/)");
    }
    HNetConfig cfg = HNetConfig.parse(cfgFile);
    Map<String, TensorData> sd = Checkpoints.loadStateDict(dir);
    if (format == null) format = Checkpoints.storedFormat(dir);
    return fromStateDict(cfg, sd, dir.toString(), format);
  }

  /**
   * Builds the model from a state dict with the official names, checked strictly against the
   * config.
   */
  public static HNetForCausalLM fromStateDict(
      HNetConfig cfg, Map<String, TensorData> sd, String source) {
    return fromStateDict(cfg, sd, source, WeightFormat.F32);
  }

  /**
   * As {@link #fromStateDict(HNetConfig, Map, String)}, with the large products' weights held in
   * {@code format}. The state dict may hold int8 weights as {@code hnet quantize} writes them.
   */
  public static HNetForCausalLM fromStateDict(
      HNetConfig cfg, Map<String, TensorData> sd, String source, WeightFormat format) {
    sd = new java.util.LinkedHashMap<>(sd);
    Map<String, org.hnet.kernels.CompactWeight> int8 = Checkpoints.takeInt8(sd, source);
    Map<String, int[]> shapes = new java.util.LinkedHashMap<>(cfg.parameterShapes());
    Checkpoints.checkCompactShapes(shapes, int8, source);
    Checkpoints.checkStrict(shapes, sd, source);
    if (cfg.tieEmbeddings()) {
      float[] e = sd.get("embeddings.weight").toFloats();
      float[] h = sd.get("lm_head.weight").toFloats();
      if (!java.util.Arrays.equals(e, h)) {
        throw new HNetException(
            source + ": tie_embeddings is true but lm_head.weight differs from embeddings.weight");
      }
    }
    // each tensor copied to the heap, then its mapped pages dropped: one copy of the weights
    Map<String, TensorData> floats = sd;
    boolean bf16 = format == WeightFormat.BF16;
    return new HNetForCausalLM(
        cfg,
        new Params(
            name -> {
              org.hnet.kernels.CompactWeight c = int8.get(name);
              if (c != null) return c.toFloats();
              TensorData t = floats.get(name);
              float[] f = t.toFloats();
              t.release();
              return f;
            },
            format,
            name -> {
              org.hnet.kernels.CompactWeight c = int8.get(name);
              if (c != null || format == WeightFormat.F32) return c;
              // a weight held compact is read from the file row by row into the kernels'
              // layout (a BF16 one as its bits), never whole as float32: the same values,
              // without a transient float32 copy per weight, which the collector left in the
              // heap (a bf16 model's peak memory exceeded the float32 model's)
              TensorData t = floats.get(name);
              if (t == null || !t.dtype().isFloatingPoint() || t.shape().length != 2) return null;
              int[] s = t.shape();
              int k = s[1];
              org.hnet.kernels.CompactWeight.FloatRows rows =
                  (r, out) -> t.floats((long) r * k, out, 0, k);
              if (bf16 && t.dtype() == DType.BF16)
                c =
                    org.hnet.kernels.CompactWeight.ofBf16(
                        (r, out) -> t.bf16Bits((long) r * k, out, 0, k), s[0], k);
              else if (bf16) c = org.hnet.kernels.CompactWeight.bf16(rows, s[0], k);
              else c = org.hnet.kernels.CompactWeight.int8(rows, s[0], k);
              t.release();
              return c;
            }));
  }

  /** The result of a forward pass over packed sequences. */
  /**
   * Refuses a token-level baseline (a config with a tokenizer) for {@code what}, which reads its
   * input as bytes: such a model is trained and scored (train, eval, compare), not run on bytes.
   */
  public void requireBytes(String what) {
    if (config.tokenizer() != null) {
      throw new org.hnet.HNetException(
          "this is a token-level baseline (tokenizer \""
              + config.tokenizer()
              + "\"), which "
              + what
              + " cannot use: it reads bytes; train, eval, inspect and compare take this model");
    }
  }

  public record Output(float[] logits, List<RoutingModule.Output> routing) {}

  /** What the backward needs of the model's own part: the tokens and the LM head's input. */
  static final class Saved {
    int[] tokens;
    float[] hidden; // stage-0 output [T × d0]
    int t;
  }

  /**
   * The training forward: as {@link #forward(int[], SeqLens)}, recording on {@code tape} what
   * {@link #backward} needs, in the model's training arena (reused by the next training forward:
   * the returned output's logits and routing arrays are overwritten by it). One training
   * computation at a time per model; inference forwards may run beside it.
   */
  public Output forward(int[] tokens, SeqLens seqs, Tape tape) {
    if (tape == null) throw new IllegalArgumentException("a training forward needs a tape");
    if (weightFormat != WeightFormat.F32)
      throw new HNetException(
          "this model holds its weights in "
              + weightFormat.label()
              + " for inference; training and gradients need it loaded with --weights f32");
    trainArena.reset();
    return forward(tokens, seqs, tape, trainArena);
  }

  /**
   * Backward of the training forward recorded last on {@code tape}: from ∂L/∂logits [T × V] and,
   * per routing stage (outer first), ∂L/∂p from outside the network (a ratio loss; nullable), adds
   * ∂L/∂param into every parameter's gradient buffer.
   */
  public void backward(float[] dLogits, float[][] dProb, Tape tape) {
    Saved s = tape.pop(Saved.class);
    int T = s.t;
    Arena w = trainArena;
    float[] dH = w.floats(T * d0);
    Matmul.linearBackwardInput(dH, 0, dLogits, 0, lmHead.data, 0, T, vocab, d0, false);
    Matmul.linearBackwardWeight(
        lmHead.gradBuffer(), 0, null, 0, dLogits, 0, s.hidden, 0, T, vocab, d0);
    float[] dX = backbone.backward(dH, dProb, tape, w);
    org.hnet.kernels.Embedding.scatterAdd(embeddings.gradBuffer(), dX, s.tokens, T, d0);
  }

  /** The training forward's and backward's memory (one training computation at a time). */
  private final Arena trainArena = new Arena();

  private final ArrayList<RoutingModule.Output> trainRouting = new ArrayList<>();
  private final List<RoutingModule.Output> trainRoutingView =
      java.util.Collections.unmodifiableList(trainRouting);

  /** Where an arena keeps the Output record of a step or training forward between calls. */
  private static final class OutputBox {
    Output o;
  }

  /**
   * The decode state of R rows: every layer's cache, and the buffers of the steps (the model's
   * weights are shared; one Cache per generation batch; not thread-safe).
   */
  public static final class Cache {
    public final int rows;
    public final int maxLen;
    final HNet.Cache backbone;
    final Arena arena = new Arena(); // every step's activations
    final java.util.ArrayList<RoutingModule.Output> routing = new java.util.ArrayList<>();
    final List<RoutingModule.Output> routingView = java.util.Collections.unmodifiableList(routing);

    Cache(int rows, int maxLen, HNet.Cache backbone) {
      this.rows = rows;
      this.maxLen = maxLen;
      this.backbone = backbone;
    }
  }

  /**
   * Copies row {@code srcRow} of {@code src} into row {@code dstRow} of {@code dst} (both caches of
   * this model with the same maxLen): a request prefilled alone joins a running batch, whose other
   * rows are untouched. The next {@link #step} of that row continues it exactly.
   */
  public void copyRow(Cache src, int srcRow, Cache dst, int dstRow) {
    if (src.maxLen != dst.maxLen) {
      throw new IllegalArgumentException(
          "caches of " + src.maxLen + " and " + dst.maxLen + " positions");
    }
    if (srcRow < 0 || srcRow >= src.rows || dstRow < 0 || dstRow >= dst.rows) {
      throw new IndexOutOfBoundsException("row " + srcRow + " → " + dstRow);
    }
    CacheRows.copy(src.backbone, src.rows, srcRow, dst.backbone, dst.rows, dstRow);
  }

  /** Allocates the caches for R rows of at most maxLen bytes each (prompt + generated). */
  public Cache allocate(int rows, int maxLen) {
    return new Cache(rows, maxLen, backbone.allocate(rows, maxLen));
  }

  /**
   * Prefill: the parallel forward over the R prompts (packed: prompt i is row i of the cache),
   * filling the caches. Returns the logits of every prompt position and the routing decisions.
   */
  public Output prefill(int[] tokens, SeqLens seqs, Cache cache) {
    if (seqs.count() != cache.rows)
      throw new IllegalArgumentException(
          seqs.count() + " prompts for a cache of " + cache.rows + " rows");
    for (int i = 0; i < seqs.count(); i++) {
      if (seqs.length(i) < 1)
        throw new HNetException("prompt " + i + " is empty: every row needs at least one byte");
    }
    // The model's prefill arena when no other thread holds it: allocating a prefill's activations
    // afresh, zeroing them and the garbage collections they caused took 15–210 ms of a 0.2–0.4 s
    // prefill (hnet bench --profile, "outside the kernels"). What the prefill returns is still
    // freshly allocated (Arena.freshOutputs).
    boolean own = prefillLock.tryLock();
    try {
      Arena w = own ? prefillArena() : Arena.freshOutputs();
      w.reset();
      float[] x = embed(tokens, seqs.total(), w);
      List<RoutingModule.Output> routing = new ArrayList<>();
      float[] h = backbone.prefill(x, tokens, d0, seqs, cache.backbone, routing, w);
      Output out = new Output(head(h, seqs.total(), false, w), List.copyOf(routing));
      if (own && w.bytes() > PREFILL_KEEP_BYTES)
        prefillArena = null; // a one-off giant prompt: let it go
      return out;
    } finally {
      if (own) prefillLock.unlock();
    }
  }

  /**
   * The prefill arena keeps its buffers up to this many bytes; after a larger prefill they are
   * dropped.
   */
  static final long PREFILL_KEEP_BYTES = 512L << 20;

  private final java.util.concurrent.locks.ReentrantLock prefillLock =
      new java.util.concurrent.locks.ReentrantLock();
  private Arena prefillArena; // guarded by prefillLock

  private Arena prefillArena() {
    if (prefillArena == null) prefillArena = Arena.freshOutputs();
    return prefillArena;
  }

  /**
   * One byte for each of R rows: tokens [R] (ignored where active[r] is false) → logits [R × V] and
   * the routing decisions of every stage over the R rows (a row that took no step at a stage has
   * mask false there).
   *
   * <p>The output, its logits and routing arrays belong to the cache and are overwritten by its
   * next step: copy what must outlive it. A step allocates nothing.
   */
  public Output step(int[] tokens, Cache cache, boolean[] active) {
    int R = cache.rows;
    if (tokens.length != R || active.length != R)
      throw new IllegalArgumentException("step needs " + R + " tokens and flags");
    Arena w = cache.arena;
    w.reset();
    int[] safe = w.ints(R);
    for (int r = 0; r < R; r++) safe[r] = active[r] ? tokens[r] : 0;
    float[] x = embed(safe, R, w);
    cache.routing.clear();
    float[] h = backbone.step(x, safe, d0, cache.backbone, active, cache.routing, w);
    float[] logits = head(h, R, true, w);
    OutputBox box = w.object(OutputBox.class, OutputBox::new);
    if (box.o != null && box.o.logits() == logits) return box.o;
    return box.o = new Output(logits, cache.routingView);
  }

  private float[] embed(int[] tokens, int T, Arena w) {
    int bad = org.hnet.kernels.Embedding.firstOutOfRange(tokens, T, vocab);
    if (bad >= 0)
      throw new HNetException(
          "token id " + tokens[bad] + " at position " + bad + " is outside 0.." + (vocab - 1));
    float[] x = w.floats(T * d0);
    org.hnet.kernels.Embedding.gather(x, embeddings.data, tokens, T, d0);
    return x;
  }

  /**
   * LM head: the GEMM path over sequences, the decode path for a step (see Linear); logits exactly
   * [T × V].
   */
  private float[] head(float[] h, int T, boolean step, Arena w) {
    float[] logits = w.exactFloats(T * vocab);
    if (step) Matmul.linearDecode(logits, 0, h, 0, lmHead.data, 0, null, 0, T, vocab, d0);
    else Matmul.linearGemm(logits, 0, h, 0, lmHead.data, 0, null, 0, T, vocab, d0);
    return logits;
  }

  /**
   * The inference forward: logits [T × V] and every stage's routing decisions, outermost first, in
   * arrays of their own (an arena per call: several threads may run forwards on one model at once).
   *
   * @param tokens byte ids [T], the packed sequences
   */
  public Output forward(int[] tokens, SeqLens seqs) {
    return forward(tokens, seqs, null, Arena.freshOutputs());
  }

  /**
   * On the training arena, the output record and its routing list are reused too (as in a step).
   */
  private Output forward(int[] tokens, SeqLens seqs, Tape tape, Arena w) {
    int T = seqs.total();
    if (tokens.length != T)
      throw new IllegalArgumentException(tokens.length + " tokens for cu_seqlens ending at " + T);
    float[] x = embed(tokens, T, w);
    boolean reuse = w == trainArena;
    List<RoutingModule.Output> routing = reuse ? trainRouting : new ArrayList<>();
    routing.clear();
    float[] h = backbone.forward(x, tokens, d0, seqs, routing, tape, w);
    if (tape != null) {
      Saved s = tape.push(Saved.class, Saved::new);
      s.tokens = tokens;
      s.hidden = h;
      s.t = T;
    }
    float[] logits = head(h, T, false, w);
    if (!reuse) return new Output(logits, List.copyOf(routing));
    OutputBox box = w.object(OutputBox.class, OutputBox::new);
    if (box.o != null && box.o.logits() == logits) return box.o;
    return box.o = new Output(logits, trainRoutingView);
  }
}
