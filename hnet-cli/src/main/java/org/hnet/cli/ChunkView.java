package org.hnet.cli;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The boundaries of every stage, mapped back to byte positions, and the text drawn with them: on a
 * terminal each stage-0 chunk gets alternating colours and stage-1 boundaries are underlined
 * markers; piped, "|" marks a stage-0 boundary and "‖" one that is also a stage-1 boundary (and so
 * on inward with more bars).
 */
final class ChunkView {
  private ChunkView() {}

  static int[] depth(List<boolean[]> boundaries, int length) {
    int[] depth = new int[length];
    for (boolean[] b : boundaries) for (int t = 0; t < length; t++) if (b[t]) depth[t]++;
    return depth;
  }

  /**
   * The text with its boundaries marked (colour when {@code ansi}). Bytes are decoded as UTF-8 per
   * chunk.
   */
  static String render(byte[] text, int[] depth, boolean ansi) {
    StringBuilder sb = new StringBuilder();
    int start = 0, chunk = 0;
    for (int t = 1; t <= text.length; t++) {
      if (t < text.length && depth[t] == 0) continue;
      String piece = new String(text, start, t - start, StandardCharsets.UTF_8);
      int d = depth[start];
      if (ansi) {
        String bg = (chunk++ % 2 == 0) ? "\u001b[48;5;153m" : "\u001b[48;5;223m";
        String mark = d >= 2 ? "\u001b[1;4m" : "";
        sb.append(bg).append(mark).append(piece.replace("\n", "↵\n")).append("\u001b[0m");
      } else {
        if (start > 0) sb.append(d >= 2 ? "‖".repeat(d - 1) : "|");
        sb.append(piece);
      }
      start = t;
    }
    return sb.toString();
  }
}
