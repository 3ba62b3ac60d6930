package org.hnet.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** OpenAI's own Java client against the server: completions, chat, streaming, errors, a key. */
class OpenAiClientTest {
  static Server server;
  static OpenAIClient client;

  @BeforeAll
  static void start() {
    ServerTest.lm = org.hnet.nn.HNetForCausalLM.load(ServerTest.MODEL);
    server =
        Server.start(
            ServerTest.lm,
            new ServeOptions("127.0.0.1", 0, 4, 16, 512, 1 << 16, 60, "k3y", "hnet"));
    client =
        OpenAIOkHttpClient.builder()
            .baseUrl("http://127.0.0.1:" + server.port() + "/v1")
            .apiKey("k3y")
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    server.close();
  }

  @Test
  void completionsAndChatThroughTheClient() {
    Completion c =
        client
            .completions()
            .create(
                CompletionCreateParams.builder()
                    .model("hnet")
                    .prompt("Call me")
                    .maxTokens(24)
                    .temperature(0.8)
                    .seed(3)
                    .build());
    assertEquals(
        ServerTest.alone("Call me", 24, 0.8, 1.0, 3, List.of()), c.choices().get(0).text());
    assertEquals(24, c.usage().orElseThrow().completionTokens());

    Completion stopped =
        client
            .completions()
            .create(
                CompletionCreateParams.builder()
                    .model("hnet")
                    .prompt("Call me")
                    .maxTokens(200)
                    .seed(3)
                    .stop("a")
                    .build());
    String expectStopped = ServerTest.alone("Call me", 200, 1.0, 1.0, 3, List.of("a"));
    assertEquals(expectStopped, stopped.choices().get(0).text());
    assertEquals(
        expectStopped.endsWith("a") ? "stop" : "length",
        stopped.choices().get(0).finishReason().asString());

    ChatCompletion chat =
        client
            .chat()
            .completions()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("hnet")
                    .addUserMessage("Hello")
                    .maxCompletionTokens(20)
                    .seed(4)
                    .build());
    String expected =
        ServerTest.alone("User: Hello\n\nAssistant:", 20, 1.0, 1.0, 4, List.of("\n\nUser:"));
    assertEquals(expected, chat.choices().get(0).message().content().orElse(""));

    StringBuilder streamed = new StringBuilder();
    try (StreamResponse<ChatCompletionChunk> s =
        client
            .chat()
            .completions()
            .createStreaming(
                ChatCompletionCreateParams.builder()
                    .model("hnet")
                    .addUserMessage("Hello")
                    .maxCompletionTokens(20)
                    .seed(4)
                    .build())) {
      s.stream()
          .forEach(
              ch -> ch.choices().forEach(x -> x.delta().content().ifPresent(streamed::append)));
    }
    assertEquals(expected, streamed.toString());
  }

  @Test
  void errorsArriveAsTheClientsExceptions() {
    BadRequestException e =
        assertThrows(
            BadRequestException.class,
            () ->
                client
                    .completions()
                    .create(
                        CompletionCreateParams.builder()
                            .model("hnet")
                            .prompt("x")
                            .maxTokens(-5)
                            .build()));
    assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
    OpenAIClient noKey =
        OpenAIOkHttpClient.builder()
            .baseUrl("http://127.0.0.1:" + server.port() + "/v1")
            .apiKey("wrong")
            .maxRetries(0)
            .build();
    assertThrows(com.openai.errors.UnauthorizedException.class, () -> noKey.models().list());
    noKey.close();
    assertEquals("hnet", client.models().list().data().get(0).id());
  }
}
