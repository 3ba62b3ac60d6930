package org.hnet.spark;

import java.io.Serializable;
import org.hnet.nn.WeightFormat;

/**
 * How {@link HNetSpark#score} scores documents.
 *
 * @param textColumn the column holding each document (string, or binary for raw bytes)
 * @param boundaries add {@code hnet_boundaries}: per stage, the byte offsets where chunks start
 * @param chunkTexts add {@code hnet_chunks_text}: the stage-1 chunks as strings (a boundary inside
 *     a character moved before the whole character)
 * @param threads worker threads of each executor JVM (0: its cores)
 * @param window bytes per forward pass; a longer document is scored in windows of this many bytes
 *     of which the first {@code overlap} are context, already scored by the window before
 * @param overlap context bytes each window after the first repeats (at most window / 2)
 * @param maxBytes documents longer than this are reported as bad rows, not scored
 * @param batchBytes documents (and windows) of a partition are packed into forward passes of up to
 *     this many positions, shortest first
 * @param weights how each executor holds the model's large weights (null: as stored)
 */
public record ScoreOptions(
    String textColumn,
    boolean boundaries,
    boolean chunkTexts,
    int threads,
    int window,
    int overlap,
    long maxBytes,
    int batchBytes,
    WeightFormat weights)
    implements Serializable {

  public ScoreOptions {
    if (textColumn == null || textColumn.isEmpty())
      throw new IllegalArgumentException("textColumn must name a column");
    if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    if (window < 16) throw new IllegalArgumentException("window must be >= 16, got " + window);
    if (overlap < 0 || overlap > window / 2)
      throw new IllegalArgumentException(
          "overlap must be in [0, window/2 = " + window / 2 + "], got " + overlap);
    if (maxBytes < 1) throw new IllegalArgumentException("maxBytes must be >= 1, got " + maxBytes);
    if (batchBytes < window + 1)
      throw new IllegalArgumentException(
          "batchBytes must be > window (" + window + "), got " + batchBytes);
  }

  /**
   * Text in column {@code text}; counts only; all cores; windows of 4096 bytes with 512 of context;
   * documents up to 16 MiB; passes of 16,384 positions; weights as stored.
   */
  public static ScoreOptions defaults() {
    return new ScoreOptions("text", false, false, 0, 4096, 512, 16L << 20, 16384, null);
  }

  public ScoreOptions withTextColumn(String c) {
    return new ScoreOptions(
        c, boundaries, chunkTexts, threads, window, overlap, maxBytes, batchBytes, weights);
  }

  public ScoreOptions withBoundaries(boolean b) {
    return new ScoreOptions(
        textColumn, b, chunkTexts, threads, window, overlap, maxBytes, batchBytes, weights);
  }

  public ScoreOptions withChunkTexts(boolean b) {
    return new ScoreOptions(
        textColumn, boundaries, b, threads, window, overlap, maxBytes, batchBytes, weights);
  }

  public ScoreOptions withThreads(int t) {
    return new ScoreOptions(
        textColumn, boundaries, chunkTexts, t, window, overlap, maxBytes, batchBytes, weights);
  }

  public ScoreOptions withWindow(int w, int o) {
    return new ScoreOptions(
        textColumn,
        boundaries,
        chunkTexts,
        threads,
        w,
        o,
        maxBytes,
        Math.max(batchBytes, w + 1),
        weights);
  }

  public ScoreOptions withMaxBytes(long m) {
    return new ScoreOptions(
        textColumn, boundaries, chunkTexts, threads, window, overlap, m, batchBytes, weights);
  }

  public ScoreOptions withWeights(WeightFormat w) {
    return new ScoreOptions(
        textColumn, boundaries, chunkTexts, threads, window, overlap, maxBytes, batchBytes, w);
  }
}
