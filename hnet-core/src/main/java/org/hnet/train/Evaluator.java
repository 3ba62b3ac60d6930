package org.hnet.train;

import org.hnet.analysis.ChunkStats;
import org.hnet.analysis.WordAlignment;
import org.hnet.kernels.CrossEntropy;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import org.hnet.train.data.Batch;

/**
 * Bits per byte and chunking statistics over batches: bpb = mean next-byte cross-entropy in nats /
 * ln 2 over every position that has a target; per stage, the compression ratio (positions of the
 * stage per chunk it produces, i.e. bytes per chunk at stage 0), the boundary rate and the word
 * alignment of its boundaries at the byte level ({@link WordAlignment}: every row and every
 * document in it is one text; null for scripts without spaced words).
 */
public final class Evaluator {
  private Evaluator() {}

  /** The result of an evaluation. */
  public record Result(
      double bpb,
      long bytes,
      double[] compression,
      double[] boundaryRate,
      ChunkStats.Alignment[] alignment) {
    public String toJson() {
      StringBuilder sb = new StringBuilder();
      sb.append("{\"bpb\": ")
          .append(json(bpb))
          .append(", \"bytes\": ")
          .append(bytes)
          .append(", \"stages\": [");
      for (int s = 0; s < compression.length; s++) {
        if (s > 0) sb.append(", ");
        sb.append("{\"compression\": ")
            .append(json(compression[s]))
            .append(", \"boundary_rate\": ")
            .append(json(boundaryRate[s]));
        ChunkStats.Alignment a = alignment[s];
        if (a != null) {
          sb.append(", \"word_alignment\": {\"precision\": ")
              .append(json(a.precision()))
              .append(", \"recall\": ")
              .append(json(a.recall()))
              .append(", \"baseline_precision\": ")
              .append(json(a.baselinePrecision()))
              .append(", \"baseline_recall\": ")
              .append(json(a.baselineRecall()))
              .append('}');
        }
        sb.append('}');
      }
      return sb.append("]}").toString();
    }

    private static String json(Double v) {
      return v != null && Double.isFinite(v) ? Double.toString(v) : "null";
    }
  }

  /** Accumulates statistics batch by batch. */
  public static final class Accumulator {
    private double nats;
    private long bytes;
    private long[] positions = new long[0];
    private long[] boundaries = new long[0];
    private WordAlignment[] words = new WordAlignment[0];

    /** Adds a batch and a model's output on it, scoring the output's logits against its targets. */
    void add(Batch b, HNetForCausalLM.Output out, SeqLens seqs, int vocab) {
      long count = 0;
      for (int t : b.targets()) if (t >= 0) count++;
      double mean =
          count == 0
              ? 0
              : CrossEntropy.forwardBackward(out.logits(), b.targets(), seqs.total(), vocab, null);
      add(b, mean, count, out);
    }

    /** Adds a batch: its mean loss over {@code count} targets and the model's output on it. */
    public void add(Batch b, double meanNats, long count, HNetForCausalLM.Output out) {
      if (count > 0) {
        nats += meanNats * count;
        bytes += b.bytes();
      }
      int n = out.routing().size();
      if (positions.length < n) {
        positions = java.util.Arrays.copyOf(positions, n);
        boundaries = java.util.Arrays.copyOf(boundaries, n);
        words = java.util.Arrays.copyOf(words, n);
      }
      for (int s = 0; s < n; s++) {
        RoutingModule.Output r = out.routing().get(s);
        positions[s] += r.boundaryProb().length;
        boundaries[s] += r.boundaries();
      }
      if (n > 0)
        addWords(b, RoutingModule.byteLevel(out.routing(), b.tokens().length).boundaries());
    }

    /**
     * Every segment of the batch is one text for word alignment; a BOS opening it is not text (the
     * byte after it starts the text), and the padding of a last eval batch is skipped.
     */
    private void addWords(Batch b, java.util.List<boolean[]> byteLevel) {
      int[] tok = b.tokens(), cu = b.cuSeqlens();
      byte[] text = new byte[tok.length];
      for (int i = 0; i < tok.length; i++) text[i] = (byte) tok[i];
      for (int k = 0; k + 1 < cu.length; k++) {
        int a = cu[k], e = cu[k + 1];
        if (tok[a] == Batch.BOS) a++;
        if (a >= e || padding(b, a, e)) continue;
        for (int s = 0; s < byteLevel.size(); s++) {
          if (words[s] == null) words[s] = new WordAlignment(1 << 16);
          words[s].add(text, a, e - a, byteLevel.get(s));
        }
      }
    }

    /** The padding segment of a last eval batch: token 0 and no target throughout. */
    private static boolean padding(Batch b, int a, int e) {
      for (int i = a; i < e; i++) if (b.tokens()[i] != 0 || b.targets()[i] >= 0) return false;
      return true;
    }

    public Result result() {
      int n = positions.length;
      double[] compression = new double[n], rate = new double[n];
      for (int s = 0; s < n; s++) {
        compression[s] = boundaries[s] == 0 ? Double.NaN : (double) positions[s] / boundaries[s];
        rate[s] = positions[s] == 0 ? Double.NaN : (double) boundaries[s] / positions[s];
      }
      ChunkStats.Alignment[] align = new ChunkStats.Alignment[n];
      for (int s = 0; s < n; s++)
        align[s] = words[s] != null && words[s].applies() ? words[s].result() : null;
      return new Result(
          bytes == 0 ? Double.NaN : nats / bytes / Math.log(2), bytes, compression, rate, align);
    }
  }

  /** Evaluates the model (in inference mode) on at most {@code maxBatches} batches (≤ 0: all). */
  public static Result evaluate(HNetForCausalLM lm, Iterable<Batch> batches, int maxBatches) {
    return evaluate(lm, batches, maxBatches, null);
  }

  /**
   * As {@link #evaluate(HNetForCausalLM, Iterable, int)}, handing every batch and its output to
   * {@code each}.
   */
  public static Result evaluate(
      HNetForCausalLM lm,
      Iterable<Batch> batches,
      int maxBatches,
      java.util.function.BiConsumer<Batch, HNetForCausalLM.Output> each) {
    Accumulator acc = new Accumulator();
    int seen = 0;
    for (Batch b : batches) {
      if (maxBatches > 0 && seen++ >= maxBatches) break;
      SeqLens seqs = new SeqLens(b.cuSeqlens());
      HNetForCausalLM.Output out = lm.forward(b.tokens(), seqs);
      acc.add(b, out, seqs, lm.vocab);
      if (each != null) each.accept(b, out);
    }
    return acc.result();
  }

  /**
   * Scores a second model (the same network with its weights in another format, say) on the very
   * batches the first is scored on, and counts how often the two make the same boundary decision:
   * per stage, over the bytes that reach that stage in either model (at stage 0, every byte). Pass
   * it as the callback of {@link #evaluate(HNetForCausalLM, Iterable, int,
   * java.util.function.BiConsumer)}.
   */
  public static final class Agreement
      implements java.util.function.BiConsumer<Batch, HNetForCausalLM.Output> {
    private final HNetForCausalLM other;
    private final Accumulator acc = new Accumulator();
    private long[] same = new long[0], seen = new long[0];

    public Agreement(HNetForCausalLM other) {
      this.other = other;
    }

    @Override
    public void accept(Batch b, HNetForCausalLM.Output out) {
      SeqLens seqs = new SeqLens(b.cuSeqlens());
      HNetForCausalLM.Output o = other.forward(b.tokens(), seqs);
      acc.add(b, o, seqs, other.vocab);
      int T = b.tokens().length, n = Math.min(out.routing().size(), o.routing().size());
      if (same.length < n) {
        same = java.util.Arrays.copyOf(same, n);
        seen = java.util.Arrays.copyOf(seen, n);
      }
      java.util.List<boolean[]> x = RoutingModule.byteLevel(out.routing(), T).boundaries();
      java.util.List<boolean[]> y = RoutingModule.byteLevel(o.routing(), T).boundaries();
      boolean[] reachX = null, reachY = null; // bytes that reach stage s (all at stage 0)
      for (int s = 0; s < n; s++) {
        boolean[] bx = x.get(s), by = y.get(s);
        for (int t = 0; t < T; t++) {
          boolean rx = reachX == null || reachX[t], ry = reachY == null || reachY[t];
          if (!rx && !ry) continue;
          seen[s]++;
          if (rx && ry && bx[t] == by[t]) same[s]++;
        }
        reachX = bx;
        reachY = by;
      }
    }

    /** The second model's result on the same batches. */
    public Result result() {
      return acc.result();
    }

    /** Per stage, the share of identical boundary decisions. */
    public double[] agreement() {
      double[] a = new double[same.length];
      for (int s = 0; s < a.length; s++)
        a[s] = seen[s] == 0 ? Double.NaN : (double) same[s] / seen[s];
      return a;
    }
  }
}
