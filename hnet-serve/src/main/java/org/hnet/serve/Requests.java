package org.hnet.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.hnet.generate.ChatTemplate;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.SamplingOptions;

/**
 * Reads and checks a completion or chat request; every problem is an {@link ApiError} naming the
 * field. Unknown fields are ignored, as OpenAI's clients send some; a known field of the wrong type
 * or out of range is refused.
 */
final class Requests {
  private Requests() {}

  /** What to generate. */
  record Completion(
      byte[] prompt, GenerateOptions options, boolean stream, boolean usageInStream) {}

  static JsonNode parse(ObjectMapper json, byte[] body) {
    JsonNode root;
    try {
      root = json.readTree(body);
    } catch (java.io.IOException e) {
      throw ApiError.invalid(null, "the body is not valid JSON: " + oneLine(e.getMessage()));
    }
    if (root == null || !root.isObject())
      throw ApiError.invalid(null, "the body must be a JSON object");
    return root;
  }

  static Completion completion(JsonNode root, String modelId, int maxLen) {
    checkModel(root, modelId);
    JsonNode p = root.get("prompt");
    String prompt;
    if (p == null || p.isNull()) {
      throw ApiError.invalid("prompt", "prompt is required");
    } else if (p.isTextual()) {
      prompt = p.textValue();
    } else if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
      prompt = p.get(0).textValue();
    } else {
      throw ApiError.invalid("prompt", "prompt must be a string (or a list of one string)");
    }
    return build(root, prompt, List.of(), 16, maxLen);
  }

  /** The messages through {@link ChatTemplate}; its stop string ends the reply. */
  static Completion chat(JsonNode root, String modelId, int maxLen) {
    checkModel(root, modelId);
    JsonNode m = root.get("messages");
    if (m == null || !m.isArray() || m.isEmpty())
      throw ApiError.invalid("messages", "messages must be a non-empty list");
    List<ChatTemplate.Message> messages = new ArrayList<>();
    for (int i = 0; i < m.size(); i++) {
      JsonNode msg = m.get(i);
      String where = "messages[" + i + "]";
      if (!msg.isObject()) throw ApiError.invalid(where, where + " must be an object");
      JsonNode role = msg.get("role");
      if (role == null || !role.isTextual())
        throw ApiError.invalid(where + ".role", where + ".role must be a string");
      String content = content(msg.get("content"), where + ".content");
      if (!List.of("system", "developer", "user", "assistant").contains(role.textValue())) {
        throw ApiError.invalid(
            where + ".role",
            where
                + ".role must be system, developer, user or assistant, got '"
                + oneLine(role.textValue())
                + "'");
      }
      messages.add(new ChatTemplate.Message(role.textValue(), content));
    }
    return build(root, ChatTemplate.render(messages), List.of(ChatTemplate.STOP), 256, maxLen);
  }

  private static String content(JsonNode c, String where) {
    if (c != null && c.isTextual()) return c.textValue();
    if (c != null && c.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (JsonNode part : c) {
        if (!part.isObject() || !"text".equals(part.path("type").asText()))
          throw ApiError.invalid(where, where + ": only text parts are supported");
        JsonNode t = part.get("text");
        if (t == null || !t.isTextual())
          throw ApiError.invalid(where, where + ": a text part needs a string 'text'");
        sb.append(t.textValue());
      }
      return sb.toString();
    }
    throw ApiError.invalid(where, where + " must be a string or a list of text parts");
  }

  private static void checkModel(JsonNode root, String modelId) {
    JsonNode m = root.get("model");
    if (m == null || m.isNull()) return;
    if (!m.isTextual()) throw ApiError.invalid("model", "model must be a string");
    if (!m.textValue().equals(modelId)) {
      throw new ApiError(
          404,
          "invalid_request_error",
          "model",
          "the model '"
              + oneLine(m.textValue())
              + "' does not exist; this server serves '"
              + modelId
              + "'");
    }
  }

  private static Completion build(
      JsonNode root, String prompt, List<String> defaultStops, int defaultMax, int maxLen) {
    byte[] bytes = prompt.getBytes(StandardCharsets.UTF_8);
    int room = maxLen - bytes.length - 2; // BOS and the last position
    String maxField = root.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    int max = Math.min(defaultMax, Math.max(1, room));
    JsonNode mt = root.get(maxField);
    if (mt != null && !mt.isNull()) {
      if (!mt.canConvertToInt() || !mt.isIntegralNumber())
        throw ApiError.invalid(maxField, maxField + " must be an integer (bytes)");
      max = mt.intValue();
      if (max < 1) throw ApiError.invalid(maxField, maxField + " must be at least 1, got " + max);
      if (max > room) {
        throw ApiError.invalid(
            maxField,
            maxField
                + " "
                + max
                + " and the prompt's "
                + bytes.length
                + " bytes exceed the "
                + (maxLen - 1)
                + " positions of a row (max_tokens counts bytes)");
      }
    }
    if (room < 1)
      throw ApiError.invalid("prompt", "the prompt's " + bytes.length + " bytes fill a row");
    double temperature = number(root, "temperature", 1.0, 0, 2);
    double topP = number(root, "top_p", 1.0, 0, 1);
    if (topP == 0) throw ApiError.invalid("top_p", "top_p must be in (0, 1]");
    int topK = (int) integer(root, "top_k", 0, 0, Integer.MAX_VALUE);
    long seed =
        root.has("seed") && !root.get("seed").isNull()
            ? integer(root, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE)
            : ThreadLocalRandom.current().nextLong();
    JsonNode n = root.get("n");
    if (n != null && !n.isNull() && !(n.isIntegralNumber() && n.asLong() == 1))
      throw ApiError.invalid("n", "n must be 1: one completion per request");
    List<byte[]> stops = new ArrayList<>();
    for (String s : defaultStops) stops.add(s.getBytes(StandardCharsets.UTF_8));
    JsonNode st = root.get("stop");
    if (st != null && !st.isNull()) {
      List<JsonNode> list = new ArrayList<>();
      if (st.isTextual()) list.add(st);
      else if (st.isArray() && st.size() <= 4) st.forEach(list::add);
      else throw ApiError.invalid("stop", "stop must be a string or a list of up to 4 strings");
      for (JsonNode s : list) {
        if (!s.isTextual() || s.textValue().isEmpty())
          throw ApiError.invalid("stop", "stop strings must be non-empty strings");
        stops.add(s.textValue().getBytes(StandardCharsets.UTF_8));
      }
    }
    boolean stream = bool(root, "stream");
    boolean ignoreEos = bool(root, "ignore_eos"); // an extension, as vLLM has it
    boolean usage = false;
    JsonNode so = root.get("stream_options");
    if (so != null && !so.isNull()) {
      if (!so.isObject())
        throw ApiError.invalid("stream_options", "stream_options must be an object");
      usage = bool(so, "include_usage");
    }
    GenerateOptions o =
        new GenerateOptions(
            max, new SamplingOptions(temperature, topK, topP, seed), !ignoreEos, stops, true);
    return new Completion(bytes, o, stream, usage);
  }

  private static double number(JsonNode root, String f, double def, double lo, double hi) {
    JsonNode v = root.get(f);
    if (v == null || v.isNull()) return def;
    if (!v.isNumber()) throw ApiError.invalid(f, f + " must be a number");
    double x = v.doubleValue();
    if (!(x >= lo && x <= hi))
      throw ApiError.invalid(f, f + " must be between " + lo + " and " + hi + ", got " + x);
    return x;
  }

  private static long integer(JsonNode root, String f, long def, long lo, long hi) {
    JsonNode v = root.get(f);
    if (v == null || v.isNull()) return def;
    if (!v.isIntegralNumber() || !v.canConvertToLong())
      throw ApiError.invalid(f, f + " must be an integer");
    long x = v.longValue();
    if (x < lo || x > hi)
      throw ApiError.invalid(f, f + " must be between " + lo + " and " + hi + ", got " + x);
    return x;
  }

  private static boolean bool(JsonNode root, String f) {
    JsonNode v = root.get(f);
    if (v == null || v.isNull()) return false;
    if (!v.isBoolean()) throw ApiError.invalid(f, f + " must be true or false");
    return v.booleanValue();
  }

  static String oneLine(String s) {
    if (s == null) return "";
    String t = s.replaceAll("[\\p{Cntrl}]", " ");
    return t.length() > 200 ? t.substring(0, 200) + "…" : t;
  }
}
