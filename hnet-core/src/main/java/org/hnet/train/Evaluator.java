package org.hnet.train;

import org.hnet.kernels.CrossEntropy;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import org.hnet.train.data.Batch;

/**
 * Bits per byte and chunking statistics over batches: bpb = mean next-byte cross-entropy in nats /
 * ln 2 over every position that has a target; per stage, the compression ratio (positions of the
 * stage per chunk it produces, i.e. bytes per chunk at stage 0) and the boundary rate.
 */
public final class Evaluator {
  private Evaluator() {}

  /** The result of an evaluation. */
  public record Result(double bpb, long bytes, double[] compression, double[] boundaryRate) {
    public String toJson() {
      StringBuilder sb = new StringBuilder();
      sb.append("{\"bpb\": ").append(json(bpb)).append(", \"bytes\": ").append(bytes).append(", \"stages\": [");
      for (int s = 0; s < compression.length; s++) {
        if (s > 0) sb.append(", ");
        sb.append("{\"compression\": ").append(json(compression[s])).append(", \"boundary_rate\": ").append(json(boundaryRate[s])).append('}');
      }
      return sb.append("]}").toString();
    }

    private static String json(double v) {
      return Double.isFinite(v) ? Double.toString(v) : "null";
    }
  }

  /** Accumulates statistics batch by batch. */
  public static final class Accumulator {
    private double nats;
    private long predicted;
    private long[] positions = new long[0];
    private long[] boundaries = new long[0];

    public void add(double meanNats, long count, HNetForCausalLM.Output out) {
      if (count > 0) {
        nats += meanNats * count;
        predicted += count;
      }
      int n = out.routing().size();
      if (positions.length < n) {
        positions = java.util.Arrays.copyOf(positions, n);
        boundaries = java.util.Arrays.copyOf(boundaries, n);
      }
      for (int s = 0; s < n; s++) {
        RoutingModule.Output r = out.routing().get(s);
        positions[s] += r.boundaryProb().length;
        boundaries[s] += r.boundaries();
      }
    }

    public Result result() {
      int n = positions.length;
      double[] compression = new double[n], rate = new double[n];
      for (int s = 0; s < n; s++) {
        compression[s] = boundaries[s] == 0 ? Double.NaN : (double) positions[s] / boundaries[s];
        rate[s] = positions[s] == 0 ? Double.NaN : (double) boundaries[s] / positions[s];
      }
      return new Result(predicted == 0 ? Double.NaN : nats / predicted / Math.log(2), predicted, compression, rate);
    }
  }

  /** Evaluates the model (in inference mode) on at most {@code maxBatches} batches (≤ 0: all). */
  public static Result evaluate(HNetForCausalLM lm, Iterable<Batch> batches, int maxBatches) {
    return evaluate(lm, batches, maxBatches, null);
  }

  /** As {@link #evaluate(HNetForCausalLM, Iterable, int)}, handing every batch and its output to {@code each}. */
  public static Result evaluate(HNetForCausalLM lm, Iterable<Batch> batches, int maxBatches,
      java.util.function.BiConsumer<Batch, HNetForCausalLM.Output> each) {
    Accumulator acc = new Accumulator();
    int seen = 0;
    for (Batch b : batches) {
      if (maxBatches > 0 && seen++ >= maxBatches) break;
      SeqLens seqs = new SeqLens(b.cuSeqlens());
      HNetForCausalLM.Output out = lm.forward(b.tokens(), seqs);
      long count = 0;
      for (int t : b.targets()) if (t >= 0) count++;
      double mean = count == 0 ? 0 : CrossEntropy.forwardBackward(out.logits(), b.targets(), seqs.total(), lm.vocab, null);
      acc.add(mean, count, out);
      if (each != null) each.accept(b, out);
    }
    return acc.result();
  }
}
