package org.hnet.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LangChain4j's OpenAiChatModel and OpenAiStreamingChatModel pointed at the server. */
class LangChain4jClientTest {
  static Server server;
  static String url;

  @BeforeAll
  static void start() {
    ServerTest.lm = org.hnet.nn.HNetForCausalLM.load(ServerTest.MODEL);
    server =
        Server.start(
            ServerTest.lm, new ServeOptions("127.0.0.1", 0, 4, 16, 512, 1 << 16, 60, null, "hnet"));
    url = "http://127.0.0.1:" + server.port() + "/v1";
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void chatStreamingAndStopStrings() throws Exception {
    OpenAiChatModel chat =
        OpenAiChatModel.builder()
            .baseUrl(url)
            .apiKey("none")
            .modelName("hnet")
            .maxTokens(40)
            .seed(6)
            .temperature(1.0)
            .stop(List.of("e"))
            .maxRetries(0)
            .build();
    String expected =
        ServerTest.alone("User: Hello\n\nAssistant:", 40, 1.0, 1.0, 6, List.of("\n\nUser:", "e"));
    assertEquals(expected, chat.chat("Hello"));

    OpenAiStreamingChatModel streaming =
        OpenAiStreamingChatModel.builder()
            .baseUrl(url)
            .apiKey("none")
            .modelName("hnet")
            .maxTokens(40)
            .seed(6)
            .temperature(1.0)
            .stop(List.of("e"))
            .build();
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
    ChatResponse r = done.get(60, TimeUnit.SECONDS);
    assertEquals(expected, parts.toString());
    assertEquals(expected, r.aiMessage().text());
  }

  @Test
  void anErrorReachesTheCaller() {
    OpenAiChatModel tooLong =
        OpenAiChatModel.builder()
            .baseUrl(url)
            .apiKey("none")
            .modelName("hnet")
            .maxTokens(100000)
            .maxRetries(0)
            .build();
    RuntimeException e = assertThrows(RuntimeException.class, () -> tooLong.chat("Hello"));
    assertTrue(String.valueOf(e.getMessage()).contains("max_tokens"), e.toString());
  }
}
