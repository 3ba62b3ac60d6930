package org.hnet.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.hnet.generate.GenerateOptions;
import org.hnet.generate.Generator;
import org.hnet.nn.HNetForCausalLM;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code hnet generate --interactive}: the model stays loaded; each line read is a prompt, its
 * continuation is streamed as it is produced. Line editing and history come from JLine on a
 * terminal; from a pipe the lines are read as they come. An empty line, Ctrl-D or Ctrl-C ends.
 */
final class Interactive {
  private Interactive() {}

  static void run(HNetForCausalLM lm, GenerateOptions o, boolean showChunks, PrintStream out)
      throws java.io.IOException {
    Generator gen = new Generator(lm);
    try (Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
      boolean tty = !Terminal.TYPE_DUMB.equals(terminal.getType()) && System.console() != null;
      LineReader reader = LineReaderBuilder.builder().terminal(terminal).build();
      if (tty) out.println("Type a prompt and Enter; an empty line or Ctrl-D ends.");
      out.flush();
      while (true) {
        String line;
        try {
          line = reader.readLine(tty ? "> " : "");
        } catch (EndOfFileException | UserInterruptException e) {
          break;
        }
        if (line == null || line.isEmpty()) break;
        byte[] prompt = line.getBytes(StandardCharsets.UTF_8);
        out.print(line);
        out.flush();
        ChunkView.Printer printer =
            new ChunkView.Printer(out, showChunks, tty && ChunkView.colours());
        gen.generate(List.of(prompt), o, (row, b, depth) -> printer.push(b, depth));
        printer.finish();
        out.println();
        out.flush();
      }
    }
  }
}
