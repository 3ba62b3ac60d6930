package org.hnet.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.SystemMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.hnet.HNetModel;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.generate.SamplingOptions;
import org.junit.jupiter.api.Test;

/** The adapter as a LangChain4j user meets it: through AiServices, and streaming. */
class HNetChatModelTest {
  static final HNetModel MODEL =
      HNetModel.load(Path.of("../hnet-core/src/test/resources/golden/2stage"));

  interface Assistant {
    @SystemMessage("Answer in one line.")
    String chat(String question);
  }

  static String alone(String prompt, int max, long seed) {
    GenerateOptions o =
        new GenerateOptions(
            max,
            new SamplingOptions(1.0, 0, 1.0, seed),
            true,
            List.of("\n\nUser:".getBytes(StandardCharsets.UTF_8)),
            true);
    return new String(
        new Generator(MODEL.model())
            .generate(List.of(prompt.getBytes(StandardCharsets.UTF_8)), o, (r, b, d) -> {})
            .get(0)
            .bytes(),
        StandardCharsets.UTF_8);
  }

  @Test
  void anAiServiceAnswersWithTheTemplatesPrompt() {
    Assistant a =
        AiServices.create(
            Assistant.class, HNetChatModel.builder().model(MODEL).maxBytes(30).seed(5).build());
    assertEquals(
        alone("Answer in one line.\n\nUser: Who are you?\n\nAssistant:", 30, 5),
        a.chat("Who are you?"));
  }

  @Test
  void streamingGivesThePiecesThenTheWhole() throws Exception {
    var streaming = HNetChatModel.builder().model(MODEL).maxBytes(40).seed(8).buildStreaming();
    StringBuilder parts = new StringBuilder();
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    streaming.chat(
        "Hello",
        new StreamingChatResponseHandler() {
          @Override
          public void onPartialResponse(String s) {
            parts.append(s);
          }

          @Override
          public void onCompleteResponse(ChatResponse r) {
            done.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }
        });
    ChatResponse r = done.get();
    String expected = alone("User: Hello\n\nAssistant:", 40, 8);
    assertEquals(expected, parts.toString());
    assertEquals(expected, r.aiMessage().text());
    assertEquals(
        expected.getBytes(StandardCharsets.UTF_8).length == 40
            ? FinishReason.LENGTH
            : FinishReason.STOP,
        r.finishReason());
    assertEquals("User: Hello\n\nAssistant:".length(), r.tokenUsage().inputTokenCount().intValue());
  }
}
