package org.hnet;

/**
 * A user-facing error: bad input, a malformed file, a config or checkpoint that does not fit. Its
 * message is one line that names the file, tensor, field or position at fault; the CLI prints it
 * without a stack trace (unless --debug) and exits non-zero.
 */
public class HNetException extends RuntimeException {
  public HNetException(String message) {
    super(message);
  }

  public HNetException(String message, Throwable cause) {
    super(message, cause);
  }
}
