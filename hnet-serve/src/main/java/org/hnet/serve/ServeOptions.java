package org.hnet.serve;

/**
 * How the server runs.
 *
 * @param host the address to bind (loopback unless told otherwise)
 * @param port the port (0: any free one)
 * @param maxBatch rows decoded together
 * @param maxQueue requests that may wait for a row; beyond, 429
 * @param maxLen positions per row: a request's prompt (with BOS) and its max_tokens must fit
 * @param maxBodyBytes largest request body; beyond, 413
 * @param deadlineSeconds a request still running after this is cancelled (504, or the stream ends)
 * @param apiKey null: no authentication; else the bearer token every request must carry
 * @param modelId the name /v1/models lists and responses carry
 */
public record ServeOptions(
    String host,
    int port,
    int maxBatch,
    int maxQueue,
    int maxLen,
    int maxBodyBytes,
    int deadlineSeconds,
    String apiKey,
    String modelId) {
  public ServeOptions {
    if (maxBatch < 1 || maxQueue < 1 || maxLen < 2 || maxBodyBytes < 1 || deadlineSeconds < 1)
      throw new IllegalArgumentException("limits must be positive");
  }

  /** Loopback on {@code port}, 8 rows, 64 waiting, 4096 positions, 1 MB bodies, 10 minutes. */
  public static ServeOptions defaults(int port, String modelId) {
    return new ServeOptions("127.0.0.1", port, 8, 64, 4096, 1 << 20, 600, null, modelId);
  }
}
