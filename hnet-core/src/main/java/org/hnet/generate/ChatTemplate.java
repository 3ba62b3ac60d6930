package org.hnet.generate;

import java.util.List;
import org.hnet.HNetException;

/**
 * The one chat template of hnet-java (H-Net base models have none of their own), used by the server
 * and the LangChain4j adapter alike: a system message as its own paragraph, then "User: …" and
 * "Assistant: …" paragraphs, ending with "Assistant:"; the next {@link #STOP} ends the reply. So
 * [user "Hi"] becomes "User: Hi\n\nAssistant:".
 */
public final class ChatTemplate {
  private ChatTemplate() {}

  /** Ends an assistant's reply: the next user turn. */
  public static final String STOP = "\n\nUser:";

  /** A message: role system (or developer), user or assistant. */
  public record Message(String role, String content) {}

  /** The prompt for {@code messages}; an unknown role is refused, naming the message. */
  public static String render(List<Message> messages) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      switch (m.role()) {
        case "system", "developer" -> sb.append(m.content()).append("\n\n");
        case "user" -> sb.append("User: ").append(m.content()).append("\n\n");
        case "assistant" -> sb.append("Assistant: ").append(m.content()).append("\n\n");
        default ->
            throw new HNetException(
                "message "
                    + i
                    + ": role must be system, developer, user or assistant, got '"
                    + m.role()
                    + "'");
      }
    }
    return sb.append("Assistant:").toString();
  }
}
