package org.hnet.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.RoutingModule;
import org.hnet.nn.SeqLens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hnet forward}: logits and routing decisions of a batch of independent byte sequences. */
@Command(
    name = "forward",
    header = "Writes a model's logits and routing decisions for given input ids.",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the model over every row of input_ids (B×L, int64 or int32) as an independent sequence and",
      "writes logits (B×L×256) and, per stage s with a router, boundary_prob_<s>, boundary_mask_<s>,",
      "selected_probs_<s> (flat over the stage-s positions, row after row) and cu_seqlens_<s> (B+1)."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet forward --model runs/demo --input io.safetensors --output out.safetensors"
    })
final class ForwardCommand implements Callable<Integer> {
  @Mixin ModelOption model;
  @Mixin WeightsOption weights;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "IN.safetensors",
      description = "Holds input_ids (B×L, int64 or int32).")
  Path input;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "OUT.safetensors",
      description = "Written atomically (temporary file, then rename).")
  Path output;

  @Option(
      names = "--step",
      description = {
        "Compute through the inference caches instead: prefill the first byte of every row, then step",
        "through the rest one byte at a time (teacher forcing); the same outputs, the exactness check."
      })
  boolean step;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() {
    threads.apply();
    Outputs.checkOutput("--output", output, model.dir(), input);
    InputIds ids = InputIds.read(input);
    HNetForCausalLM lm = model.load(weights.format);
    SeqLens seqs = SeqLens.uniform(ids.rows(), ids.length());
    HNetForCausalLM.Output out =
        step
            ? org.hnet.generate.TeacherForced.run(lm, ids.tokens(), ids.rows(), ids.length(), 1)
            : lm.forward(ids.tokens(), seqs);
    SafeTensors.write(
        output, toTensors(out, ids.rows(), ids.length(), lm.vocab), Map.of("format", "pt"));
    return 0;
  }

  static Map<String, TensorData> toTensors(HNetForCausalLM.Output out, int B, int L, int vocab) {
    Map<String, TensorData> t = new LinkedHashMap<>();
    t.put("logits", TensorData.ofFloats(new int[] {B, L, vocab}, out.logits()));
    List<RoutingModule.Output> routing = out.routing();
    for (int s = 0; s < routing.size(); s++) {
      RoutingModule.Output r = routing.get(s);
      int n = r.boundaryProb().length;
      byte[] mask = new byte[n];
      for (int i = 0; i < n; i++) mask[i] = (byte) (r.boundaryMask()[i] ? 1 : 0);
      int[] cu = r.seqs().cu();
      long[] cuLong = new long[cu.length];
      for (int i = 0; i < cu.length; i++) cuLong[i] = cu[i];
      t.put("boundary_prob_" + s, TensorData.ofFloats(new int[] {n}, r.boundaryProb()));
      t.put("boundary_mask_" + s, TensorData.ofU8(new int[] {n}, mask));
      t.put("selected_probs_" + s, TensorData.ofFloats(new int[] {n}, r.selectedProbs()));
      t.put("cu_seqlens_" + s, TensorData.ofLongs(new int[] {cu.length}, cuLong));
    }
    return t;
  }
}
