package org.hnet;

/**
 * A user-facing error: bad input, a malformed file, a config or checkpoint that does not fit. Its
 * message is one line that names the file, tensor, field or position at fault; the CLI prints it
 * without a stack trace (unless --debug) and exits non-zero.
 *
 * <p>The names in a message come from files, and a file can hold any bytes: control characters (a
 * line break, a terminal escape that would clear the screen or recolour it) are shown as {@code
 * \\uXXXX}, so the message stays one line of plain text.
 */
public class HNetException extends RuntimeException {
  public HNetException(String message) {
    super(printable(message));
  }

  public HNetException(String message, Throwable cause) {
    super(printable(message), cause);
  }

  /** {@code s} with every control character (C0, DEL, C1) written as a \\uXXXX escape. */
  public static String printable(String s) {
    if (s == null) return null;
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean control = c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0);
      if (control && b == null) b = new StringBuilder(s.length() + 16).append(s, 0, i);
      if (b != null) {
        if (control) b.append(String.format("\\u%04x", (int) c));
        else b.append(c);
      }
    }
    return b == null ? s : b.toString();
  }
}
