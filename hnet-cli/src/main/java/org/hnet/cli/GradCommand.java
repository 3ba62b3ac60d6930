package org.hnet.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.hnet.HNetException;
import org.hnet.io.SafeTensors;
import org.hnet.io.TensorData;
import org.hnet.nn.HNetForCausalLM;
import org.hnet.nn.Param;
import org.hnet.nn.SeqLens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hnet grad}: the training losses and every parameter gradient of one batch. */
@Command(
    name = "grad",
    header = "Writes the losses and every gradient of one batch.",
    mixinStandardHelpOptions = true,
    description = {
      "Computes ce_loss, ratio_loss_<s>, total_loss and grad.<name> for every parameter (official names;",
      "a tied lm_head appears once, under embeddings.weight) for the rows of input_ids, each an independent",
      "sequence (the reference's packed training mode), with N and alpha from CASE (the golden case.json format)."
    },
    footer = {
      "",
      "Example:",
      "  ./hnet grad --model DIR --input io.safetensors --case case.json --output grads.safetensors"
    })
final class GradCommand implements Callable<Integer> {
  @Mixin ModelOption model;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "IN.safetensors",
      description = "Holds input_ids (B×L, int64 or int32).")
  Path input;

  @Option(
      names = "--case",
      required = true,
      paramLabel = "CASE.json",
      description = "JSON with \"N\" (per routing stage) and \"alpha\".")
  Path caseFile;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "OUT.safetensors",
      description = "Written atomically.")
  Path output;

  @Mixin ThreadsOption threads;

  @Override
  public Integer call() {
    threads.apply();
    Outputs.checkOutput("--output", output, model.dir(), input, caseFile);
    double[] n;
    double alpha;
    try {
      JsonNode c = new ObjectMapper().readTree(caseFile.toFile());
      JsonNode nn = c.get("N"), a = c.get("alpha");
      if (nn == null || !nn.isArray())
        throw new HNetException(caseFile + ": field 'N' must be a list of numbers");
      if (a == null || !a.isNumber())
        throw new HNetException(caseFile + ": field 'alpha' must be a number");
      n = new double[nn.size()];
      for (int i = 0; i < n.length; i++) {
        if (!nn.get(i).isNumber())
          throw new HNetException(caseFile + ": N[" + i + "] is not a number");
        n[i] = nn.get(i).asDouble();
      }
      alpha = a.asDouble();
    } catch (IOException e) {
      throw new HNetException(
          caseFile + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
    InputIds ids = InputIds.read(input);
    HNetForCausalLM lm = model.load();
    SeqLens seqs = SeqLens.uniform(ids.rows(), ids.length());
    int[] tokens = ids.tokens();
    int[] targets = new int[tokens.length];
    for (int t = 0; t < tokens.length; t++)
      targets[t] = (t + 1) % ids.length() == 0 ? -1 : tokens[t + 1];
    org.hnet.train.Objective.Losses losses =
        new org.hnet.train.Objective(lm).lossAndGradients(tokens, targets, seqs, n, alpha);

    Map<String, TensorData> out = new LinkedHashMap<>();
    out.put("ce_loss", scalar(losses.ce()));
    for (int s = 0; s < losses.ratio().length; s++)
      out.put("ratio_loss_" + s, scalar(losses.ratio()[s]));
    out.put("total_loss", scalar(losses.total()));
    for (Param p : lm.parameters.values()) {
      out.put(
          "grad." + p.name,
          TensorData.ofFloats(p.shape(), p.grad == null ? new float[p.size()] : p.grad));
    }
    SafeTensors.write(output, out, Map.of("format", "pt"));
    return 0;
  }

  private static TensorData scalar(double v) {
    return TensorData.ofFloats(new int[0], new float[] {(float) v});
  }
}
