package example;

import dev.langchain4j.model.chat.ChatModel;
import java.nio.file.Path;
import org.hnet.HNetModel;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.SamplingOptions;
import org.hnet.langchain4j.HNetChatModel;

/** Loads a model directory, generates, and chats through LangChain4j: what a user's code does. */
public class Main {
  public static void main(String[] args) {
    HNetModel model = HNetModel.load(Path.of(args[0]));
    String text =
        model.generate("Call me Ishmael.", GenerateOptions.of(20, new SamplingOptions(1.0, 0, 1.0, 7)));
    ChatModel chat = HNetChatModel.builder().model(model).maxBytes(20).build();
    String reply = chat.chat("Hello");
    System.out.println("generated " + text.length() + " chars; chat replied " + reply.length());
  }
}
