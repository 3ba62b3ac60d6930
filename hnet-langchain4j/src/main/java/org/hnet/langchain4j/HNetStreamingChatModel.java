package org.hnet.langchain4j;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.TokenUsage;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hnet.HNetModel;
import org.hnet.generate.Generator;
import org.hnet.generate.Utf8Stream;

/**
 * LangChain4j's {@link StreamingChatModel} on an H-Net model in this process: the reply arrives in
 * pieces of whole characters, on the calling thread, then the complete response. Built with {@link
 * HNetChatModel.Builder#buildStreaming()}.
 */
public final class HNetStreamingChatModel implements StreamingChatModel {
  private final HNetModel model;
  private final HNetChatModel.Settings settings;

  HNetStreamingChatModel(HNetModel model, HNetChatModel.Settings settings) {
    this.model = model;
    this.settings = settings;
  }

  @Override
  public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
    Generator.Result r;
    byte[] in;
    try {
      in = HNetChatModel.prompt(request.messages()).getBytes(StandardCharsets.UTF_8);
      Utf8Stream utf8 = new Utf8Stream();
      r =
          new Generator(model.model())
              .generate(
                  List.of(in),
                  HNetChatModel.options(settings, request.parameters()),
                  (row, b, depth) -> {
                    String piece = utf8.push(b);
                    if (!piece.isEmpty()) handler.onPartialResponse(piece);
                  })
              .get(0);
      String rest = utf8.flush();
      if (!rest.isEmpty()) handler.onPartialResponse(rest);
    } catch (RuntimeException e) {
      handler.onError(e);
      return;
    }
    handler.onCompleteResponse(
        ChatResponse.builder()
            .aiMessage(AiMessage.from(new String(r.bytes(), StandardCharsets.UTF_8)))
            .finishReason(HNetChatModel.finish(r.reason()))
            .tokenUsage(new TokenUsage(in.length, r.bytes().length))
            .build());
  }
}
