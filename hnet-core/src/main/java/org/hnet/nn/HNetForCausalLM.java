package org.hnet.nn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;
import org.hnet.config.HNetConfig;
import org.hnet.io.Checkpoints;
import org.hnet.io.TensorData;
import org.hnet.kernels.Matmul;

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
    this.lmHead = config.tieEmbeddings() ? embeddings : ps.take("lm_head.weight", -1, true, vocab, d0);
    this.parameters = ps.all();
  }

  /** Loads {@code config.json} and {@code model.safetensors} (or {@code model.pt}) from a directory. */
  public static HNetForCausalLM load(Path dir) {
    Path cfgFile = dir.resolve("config.json");
    if (!java.nio.file.Files.isRegularFile(cfgFile)) throw new HNetException(dir + ": no config.json");
    HNetConfig cfg = HNetConfig.parse(cfgFile);
    Map<String, TensorData> sd = Checkpoints.loadStateDict(dir);
    return fromStateDict(cfg, sd, dir.toString());
  }

  /** Builds the model from a state dict with the official names, checked strictly against the config. */
  public static HNetForCausalLM fromStateDict(HNetConfig cfg, Map<String, TensorData> sd, String source) {
    Checkpoints.checkStrict(cfg.parameterShapes(), sd, source);
    if (cfg.tieEmbeddings()) {
      float[] e = sd.get("embeddings.weight").toFloats();
      float[] h = sd.get("lm_head.weight").toFloats();
      if (!java.util.Arrays.equals(e, h)) {
        throw new HNetException(source + ": tie_embeddings is true but lm_head.weight differs from embeddings.weight");
      }
    }
    return new HNetForCausalLM(cfg, new Params(name -> sd.get(name).toFloats()));
  }

  /** The result of a forward pass over packed sequences. */
  public record Output(float[] logits, List<RoutingModule.Output> routing) {}

  /**
   * @param tokens byte ids [T], the packed sequences
   * @return logits [T × V] and every stage's routing decisions, outermost first
   */
  public Output forward(int[] tokens, SeqLens seqs) {
    int T = seqs.total();
    if (tokens.length != T) throw new IllegalArgumentException(tokens.length + " tokens for cu_seqlens ending at " + T);
    float[] x = new float[T * d0];
    for (int t = 0; t < T; t++) {
      int id = tokens[t];
      if (id < 0 || id >= vocab) throw new HNetException("token id " + id + " at position " + t + " is outside 0.." + (vocab - 1));
      System.arraycopy(embeddings.data, id * d0, x, t * d0, d0);
    }
    List<RoutingModule.Output> routing = new ArrayList<>();
    float[] h = backbone.forward(x, d0, seqs, routing);
    float[] logits = new float[T * vocab];
    Matmul.linear(logits, 0, h, 0, lmHead.data, 0, null, 0, T, vocab, d0);
    return new Output(logits, List.copyOf(routing));
  }
}
