package org.hnet.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demo's shipped model of the word-finding recipe loads from its resources and chunks the
 * demo's passage at word edges, far above chance.
 */
class DemoWordsTest {
  @Test
  void theShippedWordModelChunksThePassageIntoWords() throws Exception {
    StringWriter out = new StringWriter();
    try (PrintWriter w = new PrintWriter(out)) {
      DemoCommand.showWordModel(w, DemoCommand.PASSAGE.getBytes(StandardCharsets.UTF_8));
    }
    String text = out.toString().replaceAll("\u001b\\[[0-9;]*m", ""); // without colours
    Matcher m =
        Pattern.compile("precision ([0-9.]+) \\(random at this rate: ([0-9.]+)\\)").matcher(text);
    assertTrue(m.find(), text);
    double precision = Double.parseDouble(m.group(1)), random = Double.parseDouble(m.group(2));
    assertTrue(precision >= 0.85 && random <= 0.45, text);
    assertTrue(text.contains(" Ishmael"), text);
  }
}
