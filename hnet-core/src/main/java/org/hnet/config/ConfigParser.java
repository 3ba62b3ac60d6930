package org.hnet.config;

import static org.hnet.config.ConfigValidator.error;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.function.IntPredicate;
import org.hnet.HNetException;

/**
 * Reads the official H-Net JSON config (the format of {@code configs/*.json} in goombalab/hnet).
 *
 * <p>The reference loads it as {@code HNetConfig(**json)} with {@code AttnConfig(**attn_cfg)} and
 * {@code SSMConfig(**ssm_cfg)}, so unknown keys are errors there too; its layout regex silently
 * skips malformed text, which we reject instead so that typos do not build a different model.
 */
final class ConfigParser {
  /** Largest d_model (and num_heads) accepted: 2^20. */
  static final int MAX_WIDTH = 1 << 20;

  /** Largest d_intermediate: 2^22. */
  static final int MAX_HIDDEN = 1 << 22;

  /** Largest vocab_size: 2^24. */
  static final int MAX_VOCAB = 1 << 24;

  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private static final Set<String> TOP_FIELDS =
      Set.of(
          "arch_layout",
          "d_model",
          "d_intermediate",
          "vocab_size",
          "ssm_cfg",
          "attn_cfg",
          "tie_embeddings",
          "routing_mode",
          "tokenizer");
  private static final Set<String> SSM_FIELDS = Set.of("d_conv", "expand", "d_state", "chunk_size");
  private static final Set<String> ATTN_FIELDS =
      Set.of("num_heads", "rotary_emb_dim", "window_size");

  /** Guards against absurd layouts ("m99999999") allocating huge block lists. */
  static final int MAX_BLOCKS_PER_STACK = 10_000;

  private final String source;

  private ConfigParser(String source) {
    this.source = source;
  }

  /** The layout strings of one stage, as found in arch_layout. */
  private record StageLayout(
      List<BlockSpec> encoder, List<BlockSpec> main, List<BlockSpec> decoder) {}

  static HNetConfig parse(String json, String source) {
    return new ConfigParser(source).parse(json);
  }

  private HNetConfig parse(String json) {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + " column "
                  + e.getLocation().getColumnNr();
      throw new HNetException(
          source + ": invalid JSON" + where + ": " + oneLine(e.getOriginalMessage()), e);
    }
    if (root == null || root.isMissingNode() || !root.isObject()) {
      throw error(source, "top level must be a JSON object");
    }
    checkKnownFields(root, TOP_FIELDS, "");

    List<StageLayout> layouts = new ArrayList<>();
    parseArchLayout(required(root, "arch_layout"), "arch_layout", layouts);
    int n = layouts.size();

    // Upper limits far beyond any real model keep every derived size (3·d, 2·expand·d + ..., the
    // tensors' element counts) inside Java's int arithmetic and arrays, so a typo is named here
    // instead of overflowing into negative sizes later.
    int[] dModel =
        intList(
            required(root, "d_model"),
            "d_model",
            n,
            v -> v >= 1 && v <= MAX_WIDTH,
            "in [1, " + MAX_WIDTH + "]");
    int[] dInter =
        intList(
            required(root, "d_intermediate"),
            "d_intermediate",
            n,
            v -> v >= 0 && v <= MAX_HIDDEN,
            "in [0, " + MAX_HIDDEN + "]");
    int vocab = root.has("vocab_size") ? intValue(root.get("vocab_size"), "vocab_size") : 256;
    if (vocab < 1 || vocab > MAX_VOCAB) {
      throw error(source, "vocab_size must be in [1, " + MAX_VOCAB + "], got " + vocab);
    }
    boolean tie = false;
    if (root.has("tie_embeddings")) {
      JsonNode t = root.get("tie_embeddings");
      if (!t.isBoolean()) {
        throw error(source, "tie_embeddings must be true or false, got " + describe(t));
      }
      tie = t.booleanValue();
    }

    // ssm_cfg: every field has a default (the reference's SSMConfig dataclass).
    JsonNode ssmNode = root.has("ssm_cfg") ? objectField(root, "ssm_cfg") : null;
    SsmConfig def = SsmConfig.DEFAULT;
    int[] dState =
        perStage(
            ssmNode,
            "ssm_cfg",
            "d_state",
            n,
            def.dState(),
            v -> v >= 1 && v <= 65536,
            "in [1, 65536]");
    int[] expand =
        perStage(
            ssmNode, "ssm_cfg", "expand", n, def.expand(), v -> v >= 1 && v <= 64, "in [1, 64]");
    int[] dConv =
        perStage(
            ssmNode, "ssm_cfg", "d_conv", n, def.dConv(), v -> v >= 1 && v <= 1024, "in [1, 1024]");
    int[] chunk =
        perStage(
            ssmNode,
            "ssm_cfg",
            "chunk_size",
            n,
            def.chunkSize(),
            v -> v >= 1 && v <= (1 << 20),
            "in [1, 1048576]");

    // attn_cfg: the reference indexes num_heads at every stage, so it is required; the other two
    // fall back to CausalMHA's defaults.
    JsonNode attnNode = objectField(root, "attn_cfg");
    if (!attnNode.has("num_heads")) {
      throw error(source, "attn_cfg.num_heads is missing");
    }
    int[] heads =
        perStage(
            attnNode,
            "attn_cfg",
            "num_heads",
            n,
            0,
            v -> v >= 1 && v <= MAX_WIDTH,
            "in [1, " + MAX_WIDTH + "]");
    int[] rotary =
        perStage(
            attnNode,
            "attn_cfg",
            "rotary_emb_dim",
            n,
            AttnConfig.DEFAULT_ROTARY_EMB_DIM,
            v -> v >= 0,
            ">= 0");
    int[] window =
        perStage(
            attnNode,
            "attn_cfg",
            "window_size",
            n,
            AttnConfig.DEFAULT_WINDOW_SIZE,
            v -> v >= -1,
            ">= 0, or -1 for global attention");

    RouterSpec[] routers = new RouterSpec[n];
    java.util.Arrays.fill(routers, RouterSpec.LEARNED);
    if (root.has("routing_mode")) {
      JsonNode rm = root.get("routing_mode");
      if (!rm.isArray() || rm.size() != n - 1) {
        throw error(
            source,
            "routing_mode must be a list of "
                + (n - 1)
                + " entries (one per chunking stage), got "
                + describe(rm));
      }
      for (int s = 0; s < n - 1; s++) {
        RouterSpec r = rm.get(s).isTextual() ? RouterSpec.parse(rm.get(s).asText()) : null;
        if (r == null) {
          throw error(
              source,
              "routing_mode["
                  + s
                  + "] must be \"learned\", \"fixed:K\" (1 ≤ K ≤ "
                  + RouterSpec.MAX_STRIDE
                  + ") or \"space\", got "
                  + describe(rm.get(s)));
        }
        if (r.kind() == RouterSpec.Kind.SPACE && s > 0) {
          throw error(
              source,
              "routing_mode[" + s + "]: \"space\" chunks bytes and works at the outer stage only");
        }
        routers[s] = r;
      }
    }

    List<StageConfig> stages = new ArrayList<>(n);
    for (int s = 0; s < n; s++) {
      StageLayout l = layouts.get(s);
      stages.add(
          new StageConfig(
              s,
              dModel[s],
              dInter[s],
              l.encoder(),
              l.main(),
              l.decoder(),
              s == n - 1,
              new SsmConfig(dState[s], expand[s], dConv[s], chunk[s]),
              new AttnConfig(heads[s], rotary[s], window[s]),
              routers[s]));
    }
    ConfigValidator.validate(stages, vocab, source);
    String tokenizer = null;
    if (root.has("tokenizer")) {
      JsonNode t = root.get("tokenizer");
      if (!t.isTextual()) throw error(source, "tokenizer must be a string, got " + describe(t));
      tokenizer = t.textValue();
      TokenizerSpec.ranks(tokenizer, vocab, source);
      if (n != 1) {
        throw error(
            source,
            "tokenizer: a token-level model is an isotropic stack (arch_layout [\"T4\"]), not an"
                + " H-Net: chunking works on bytes");
      }
    }
    HNetConfig config = new HNetConfig(stages, vocab, tie, tokenizer);
    config.checkTensorSizes(source);
    return config;
  }

  /** Walks [enc, [inner], dec] / [layout] recursively, appending one StageLayout per stage. */
  private void parseArchLayout(JsonNode node, String path, List<StageLayout> out) {
    if (!node.isArray()) {
      throw error(source, path + " must be a list, got " + describe(node));
    }
    if (node.size() == 1) {
      List<BlockSpec> main = parseLayoutString(node.get(0), path + "[0]");
      out.add(new StageLayout(List.of(), main, List.of()));
      return;
    }
    if (node.size() != 3) {
      throw error(
          source,
          path
              + " must be [encoder, [inner stage], decoder] or [layout], got a list of "
              + node.size()
              + " entries");
    }
    List<BlockSpec> enc = parseLayoutString(node.get(0), path + "[0]");
    List<BlockSpec> dec = parseLayoutString(node.get(2), path + "[2]");
    out.add(new StageLayout(enc, List.of(), dec));
    parseArchLayout(node.get(1), path + "[1]", out);
  }

  /** Parses "m4T1" etc.: one or more letter-count pairs, letters m/M/t/T, counts >= 1. */
  private List<BlockSpec> parseLayoutString(JsonNode node, String path) {
    if (!node.isTextual()) {
      throw error(source, path + " must be a layout string such as \"m4\", got " + describe(node));
    }
    String text = node.textValue();
    String at = path + " = \"" + oneLine(text) + "\"";
    if (text.isEmpty()) {
      throw error(source, at + " is empty; a stack needs at least one block");
    }
    List<BlockSpec> blocks = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if ("mMtT".indexOf(c) < 0) {
        throw error(
            source,
            at + ": unknown layer letter '" + c + "' at position " + i + " (use m, M, t or T)");
      }
      int j = i + 1;
      while (j < text.length() && text.charAt(j) >= '0' && text.charAt(j) <= '9') {
        j++;
      }
      if (j == i + 1) {
        throw error(source, at + ": letter '" + c + "' at position " + i + " has no layer count");
      }
      String digits = text.substring(i + 1, j);
      long count = digits.length() > 9 ? Long.MAX_VALUE : Long.parseLong(digits);
      if (count < 1) {
        throw error(source, at + ": layer count of '" + c + "' at position " + i + " must be >= 1");
      }
      if (count
          > MAX_BLOCKS_PER_STACK - blocks.size()) { // not blocks.size() + count: that overflows
        throw error(source, at + ": more than " + MAX_BLOCKS_PER_STACK + " blocks in one stack");
      }
      for (long k = 0; k < count; k++) {
        blocks.add(BlockSpec.of(c));
      }
      i = j;
    }
    return blocks;
  }

  private JsonNode required(JsonNode obj, String field) {
    JsonNode v = obj.get(field);
    if (v == null) {
      throw error(source, field + " is missing");
    }
    return v;
  }

  private JsonNode objectField(JsonNode root, String field) {
    JsonNode v = required(root, field);
    if (!v.isObject()) {
      throw error(source, field + " must be an object, got " + describe(v));
    }
    checkKnownFields(v, field.equals("ssm_cfg") ? SSM_FIELDS : ATTN_FIELDS, field + ".");
    return v;
  }

  private void checkKnownFields(JsonNode obj, Set<String> known, String prefix) {
    for (Iterator<String> it = obj.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!known.contains(name)) {
        throw error(
            source,
            "unknown field "
                + prefix
                + oneLine(name)
                + " (known: "
                + String.join(", ", sorted(known))
                + ")");
      }
    }
  }

  private int intValue(JsonNode v, String path) {
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw error(source, path + " must be an integer, got " + describe(v));
    }
    return v.intValue();
  }

  private int[] intList(JsonNode v, String field, int n, IntPredicate ok, String rule) {
    if (!v.isArray()) {
      throw error(source, field + " must be a list with one entry per stage, got " + describe(v));
    }
    if (v.size() != n) {
      throw error(source, stageCountMismatch(field, v.size(), n));
    }
    int[] out = new int[n];
    for (int s = 0; s < n; s++) {
      out[s] = checked(intValue(v.get(s), field + "[" + s + "]"), field + "[" + s + "]", ok, rule);
    }
    return out;
  }

  /** A field that is either one integer for all stages or a list indexed by stage. */
  private int[] perStage(
      JsonNode obj, String group, String field, int n, int dflt, IntPredicate ok, String rule) {
    String path = group + "." + field;
    int[] out = new int[n];
    JsonNode v = obj == null ? null : obj.get(field);
    if (v == null) {
      java.util.Arrays.fill(out, dflt);
    } else if (v.isArray()) {
      if (v.size() != n) {
        throw error(source, stageCountMismatch(path, v.size(), n));
      }
      for (int s = 0; s < n; s++) {
        out[s] = checked(intValue(v.get(s), path + "[" + s + "]"), path + "[" + s + "]", ok, rule);
      }
    } else {
      java.util.Arrays.fill(out, checked(intValue(v, path), path, ok, rule));
    }
    return out;
  }

  private int checked(int value, String path, IntPredicate ok, String rule) {
    if (!ok.test(value)) {
      throw error(source, path + " must be " + rule + ", got " + value);
    }
    return value;
  }

  private static String stageCountMismatch(String path, int got, int stages) {
    return path
        + " has "
        + got
        + (got == 1 ? " entry" : " entries")
        + " but arch_layout has "
        + stages
        + (stages == 1 ? " stage" : " stages");
  }

  private static String describe(JsonNode v) {
    if (v == null || v.isMissingNode()) {
      return "nothing";
    }
    String kind =
        v.isObject()
            ? "an object"
            : v.isArray()
                ? "a list"
                : v.isTextual()
                    ? "a string"
                    : v.isBoolean() ? "a boolean" : v.isNull() ? "null" : "a number";
    if (v.isValueNode() && !v.isNull()) {
      String text = oneLine(v.toString());
      return kind + " (" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + ")";
    }
    return kind;
  }

  private static List<String> sorted(Set<String> s) {
    return s.stream().sorted().toList();
  }

  static String oneLine(String s) {
    return s == null ? "" : s.replaceAll("[\\r\\n\\t]+", " ").strip();
  }
}
