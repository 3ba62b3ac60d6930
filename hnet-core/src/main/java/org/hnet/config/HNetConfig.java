package org.hnet.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.ToIntFunction;
import org.hnet.HNetException;

/**
 * An H-Net model configuration in the official JSON format of goombalab/hnet ({@code
 * hnet/models/config_hnet.py}), resolved per stage and validated against what the reference modules
 * require.
 *
 * @param stages stage 0 (bytes) first, the innermost stage last
 * @param vocabSize embedding rows (256 for bytes)
 * @param tieEmbeddings whether lm_head shares the embedding matrix
 * @param tokenizer null for bytes (every official config); a token-level baseline's vocabulary
 *     ({@link TokenizerSpec})
 */
public record HNetConfig(
    List<StageConfig> stages, int vocabSize, boolean tieEmbeddings, String tokenizer) {

  public HNetConfig {
    stages = List.copyOf(stages);
    ConfigValidator.validate(stages, vocabSize, "HNetConfig");
    if (tokenizer != null) {
      TokenizerSpec.ranks(tokenizer, vocabSize, "HNetConfig");
      if (stages.size() != 1) {
        throw new HNetException(
            "HNetConfig: a tokenizer is for isotropic token-level models, not H-Nets");
      }
    }
  }

  /** A byte-level model (no tokenizer), as every official config is. */
  public HNetConfig(List<StageConfig> stages, int vocabSize, boolean tieEmbeddings) {
    this(stages, vocabSize, tieEmbeddings, null);
  }

  /** Every tensor fits a Java array (checked once the fields are known to be in range). */
  void checkTensorSizes(String source) {
    for (ParameterShapes.Param p : ParameterShapes.of(this)) {
      if (p.numel() > MAX_TENSOR) {
        throw new HNetException(
            source
                + ": tensor "
                + p.name()
                + " "
                + java.util.Arrays.toString(p.shape())
                + " would hold "
                + p.numel()
                + " elements, more than one array holds ("
                + MAX_TENSOR
                + "): d_model, d_intermediate or"
                + " ssm_cfg.expand of stage "
                + Math.max(0, p.stage())
                + " is too large");
      }
    }
  }

  /** Most elements of one tensor (a Java float[]). */
  public static final long MAX_TENSOR = Integer.MAX_VALUE - 16;

  /** Reads and validates a config file; errors name the file and the field at fault. */
  public static HNetConfig parse(Path file) {
    String json;
    if (!Files.exists(file)) throw new HNetException(file + ": no such file");
    if (Files.isDirectory(file))
      throw new HNetException(file + ": is a directory, not a config file");
    if (Files.exists(file) && !Files.isRegularFile(file)) {
      throw new HNetException(
          file
              + ": is not a regular file (a pipe or a device?)"); // reading one could block forever
    }
    try {
      json = Files.readString(file, StandardCharsets.UTF_8);
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new HNetException(file + ": not UTF-8 text (a config is a JSON file)", e);
    } catch (IOException e) {
      throw new HNetException(
          file + ": cannot read config: " + ConfigParser.oneLine(String.valueOf(e.getMessage())),
          e);
    }
    return parse(json, file.toString());
  }

  /** Parses config JSON; {@code sourceName} prefixes every error message. */
  public static HNetConfig parse(String json, String sourceName) {
    return ConfigParser.parse(json, sourceName);
  }

  public int numStages() {
    return stages.size();
  }

  public StageConfig stage(int s) {
    return stages.get(s);
  }

  public StageConfig innermostStage() {
    return stages.getLast();
  }

  /** Whether the model is a single isotropic stack (arch_layout of the form [layout]). */
  public boolean isIsotropic() {
    return stages.size() == 1;
  }

  /**
   * Every state_dict key of the reference model with its shape, in named_parameters() order
   * (embeddings, backbone..., lm_head). lm_head.weight is listed even when tied, as in the
   * state_dict. The map and arrays are fresh copies.
   */
  public LinkedHashMap<String, int[]> parameterShapes() {
    LinkedHashMap<String, int[]> map = new LinkedHashMap<>();
    for (ParameterShapes.Param p : ParameterShapes.of(this)) {
      map.put(p.name(), p.shape().clone());
    }
    return map;
  }

  /** Stage of each state_dict key (-1 for embeddings.weight and lm_head.weight), same order. */
  public LinkedHashMap<String, Integer> parameterStages() {
    LinkedHashMap<String, Integer> map = new LinkedHashMap<>();
    for (ParameterShapes.Param p : ParameterShapes.of(this)) {
      map.put(p.name(), p.stage());
    }
    return map;
  }

  /**
   * The state_dict keys of the large products' weights (out, in), in {@link #parameterShapes()}
   * order: the mixers' and MLPs' Linear layers (Mamba-2 in_proj and out_proj, attention Wqkv and
   * out_proj, SwiGLU fc1 and fc2), the weights a model loaded in bf16 or int8 holds compact.
   */
  public java.util.Set<String> productWeights() {
    java.util.Set<String> set = new java.util.LinkedHashSet<>();
    for (ParameterShapes.Param p : ParameterShapes.of(this)) if (p.product()) set.add(p.name());
    return set;
  }

  /** Number of trainable parameters; a tied lm_head is counted once (named_parameters()). */
  public long parameterCount() {
    long n = embeddingParameterCount();
    for (int s = 0; s < numStages(); s++) {
      n += parameterCount(s);
    }
    return n;
  }

  /**
   * Parameters owned by stage s: its blocks and norms, its routing module and residual projection,
   * and its pad_dimension (not those of inner stages).
   */
  public long parameterCount(int stage) {
    if (stage < 0 || stage >= numStages()) {
      throw new IndexOutOfBoundsException("stage " + stage + " of " + numStages());
    }
    long n = 0;
    for (ParameterShapes.Param p : ParameterShapes.of(this)) {
      if (p.stage() == stage) {
        n += p.numel();
      }
    }
    return n;
  }

  /** embeddings.weight plus lm_head.weight (once if tied). */
  public long embeddingParameterCount() {
    long table = (long) vocabSize * stage(0).dModel();
    return tieEmbeddings ? table : 2 * table;
  }

  /** The config in the official JSON format; {@link #parse(String, String)} reads it back equal. */
  public String toJson() {
    JsonNodeFactory f = JsonNodeFactory.instance;
    ObjectNode root = f.objectNode();
    root.set("arch_layout", archLayout(f, 0));
    ArrayNode dModel = root.putArray("d_model");
    ArrayNode dInter = root.putArray("d_intermediate");
    for (StageConfig st : stages) {
      dModel.add(st.dModel());
      dInter.add(st.dIntermediate());
    }
    root.put("vocab_size", vocabSize);
    ObjectNode ssm = root.putObject("ssm_cfg");
    // Official files give ssm_cfg as scalars and attn_cfg as per-stage lists; keep that style,
    // falling back to lists for ssm settings that differ between stages.
    putPerStage(ssm, "chunk_size", st -> st.ssm().chunkSize(), true);
    putPerStage(ssm, "d_conv", st -> st.ssm().dConv(), true);
    putPerStage(ssm, "d_state", st -> st.ssm().dState(), true);
    putPerStage(ssm, "expand", st -> st.ssm().expand(), true);
    ObjectNode attn = root.putObject("attn_cfg");
    putPerStage(attn, "num_heads", st -> st.attn().numHeads(), false);
    putPerStage(attn, "rotary_emb_dim", st -> st.attn().rotaryEmbDim(), false);
    putPerStage(attn, "window_size", st -> st.attn().windowSize(), false);
    root.put("tie_embeddings", tieEmbeddings);
    if (tokenizer != null) root.put("tokenizer", tokenizer); // only for the token-level baseline
    if (stages.stream().anyMatch(st -> !st.innermost() && !st.router().learned())) {
      ArrayNode rm =
          root.putArray("routing_mode"); // only for the baselines: official files lack it
      for (StageConfig st : stages) if (!st.innermost()) rm.add(st.router().id());
    }
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e); // a tree of ints and strings always serialises
    }
  }

  /** Indented, human-readable description of stages, stacks, blocks and parameter counts. */
  public String layerTree() {
    return LayerTree.render(this);
  }

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ArrayNode archLayout(JsonNodeFactory f, int s) {
    StageConfig st = stage(s);
    ArrayNode a = f.arrayNode();
    if (st.innermost()) {
      a.add(StageConfig.layoutString(st.main()));
    } else {
      a.add(StageConfig.layoutString(st.encoder()));
      a.add(archLayout(f, s + 1));
      a.add(StageConfig.layoutString(st.decoder()));
    }
    return a;
  }

  private void putPerStage(
      ObjectNode obj, String field, ToIntFunction<StageConfig> get, boolean scalarIfUniform) {
    int first = get.applyAsInt(stages.getFirst());
    boolean uniform = stages.stream().allMatch(st -> get.applyAsInt(st) == first);
    if (scalarIfUniform && uniform) {
      obj.put(field, first);
      return;
    }
    ArrayNode a = obj.putArray(field);
    stages.forEach(st -> a.add(get.applyAsInt(st)));
  }
}
