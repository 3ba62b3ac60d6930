package org.hnet.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.hnet.HNetModel;
import org.hnet.generate.ChatTemplate;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.SamplingOptions;
import org.hnet.generate.StopCondition;

/**
 * LangChain4j's {@link ChatModel} on an H-Net model in this process: the messages go through
 * hnet-java's {@link ChatTemplate} (the one {@code hnet serve} uses), and the reply is what {@code
 * hnet generate} gives for that prompt. Token counts are bytes.
 *
 * <pre>{@code
 * ChatModel chat = HNetChatModel.builder().model(HNetModel.load(Path.of("runs/demo"))).build();
 * String reply = chat.chat("Call me Ishmael.");
 * }</pre>
 */
public final class HNetChatModel implements ChatModel {
  final HNetModel model;
  final Settings settings;

  HNetChatModel(HNetModel model, Settings settings) {
    this.model = model;
    this.settings = settings;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** What a request does not say: the reply's length in bytes, sampling, seed, stop strings. */
  record Settings(
      int maxBytes, double temperature, double topP, int topK, long seed, List<String> stop) {}

  /** Builds a chat model; {@link #model} is required. */
  public static final class Builder {
    HNetModel model;
    int maxBytes = 256;
    double temperature = 1.0, topP = 1.0;
    int topK = 0;
    long seed = 0;
    List<String> stop = List.of();

    public Builder model(HNetModel m) {
      model = m;
      return this;
    }

    /** Bytes a reply may have (default 256). */
    public Builder maxBytes(int n) {
      maxBytes = n;
      return this;
    }

    public Builder temperature(double t) {
      temperature = t;
      return this;
    }

    public Builder topP(double p) {
      topP = p;
      return this;
    }

    public Builder topK(int k) {
      topK = k;
      return this;
    }

    /** The sampling seed of every reply (default 0: the same question gets the same answer). */
    public Builder seed(long s) {
      seed = s;
      return this;
    }

    /** Extra stop strings (the template's next user turn always stops a reply). */
    public Builder stop(List<String> s) {
      stop = List.copyOf(s);
      return this;
    }

    Settings settings() {
      if (model == null) throw new IllegalStateException("model(...) is required");
      return new Settings(maxBytes, temperature, topP, topK, seed, stop);
    }

    public HNetChatModel build() {
      return new HNetChatModel(model, settings());
    }

    public HNetStreamingChatModel buildStreaming() {
      return new HNetStreamingChatModel(model, settings());
    }
  }

  /** The prompt of a request's messages. */
  static String prompt(List<ChatMessage> messages) {
    List<ChatTemplate.Message> out = new ArrayList<>();
    for (ChatMessage m : messages) {
      switch (m) {
        case SystemMessage s -> out.add(new ChatTemplate.Message("system", s.text()));
        case UserMessage u -> out.add(new ChatTemplate.Message("user", u.singleText()));
        case AiMessage a -> out.add(new ChatTemplate.Message("assistant", a.text()));
        default ->
            throw new IllegalArgumentException(
                "H-Net chat takes system, user and AI messages, not " + m.type());
      }
    }
    return ChatTemplate.render(out);
  }

  /** The request's parameters over the settings. */
  static GenerateOptions options(Settings s, ChatRequestParameters p) {
    double t = p != null && p.temperature() != null ? p.temperature() : s.temperature();
    double topP = p != null && p.topP() != null ? p.topP() : s.topP();
    int topK = p != null && p.topK() != null ? p.topK() : s.topK();
    int max = p != null && p.maxOutputTokens() != null ? p.maxOutputTokens() : s.maxBytes();
    List<byte[]> stops = new ArrayList<>();
    stops.add(ChatTemplate.STOP.getBytes(StandardCharsets.UTF_8));
    for (String x : s.stop()) stops.add(x.getBytes(StandardCharsets.UTF_8));
    if (p != null && p.stopSequences() != null)
      for (String x : p.stopSequences()) stops.add(x.getBytes(StandardCharsets.UTF_8));
    return new GenerateOptions(
        max, new SamplingOptions(t, topK, topP, s.seed()), true, stops, true);
  }

  static FinishReason finish(StopCondition.Reason r) {
    return r == StopCondition.Reason.MAX_BYTES ? FinishReason.LENGTH : FinishReason.STOP;
  }

  @Override
  public ChatResponse doChat(ChatRequest request) {
    String prompt = prompt(request.messages());
    byte[] in = prompt.getBytes(StandardCharsets.UTF_8);
    Generator.Result r =
        new Generator(model.model())
            .generate(List.of(in), options(settings, request.parameters()), (x, b, d) -> {})
            .get(0);
    return ChatResponse.builder()
        .aiMessage(AiMessage.from(new String(r.bytes(), StandardCharsets.UTF_8)))
        .finishReason(finish(r.reason()))
        .tokenUsage(new TokenUsage(in.length, r.bytes().length))
        .build();
  }
}
