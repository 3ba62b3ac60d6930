package org.hnet.analysis;

/**
 * Lenient UTF-8 character segmentation shared by the analysis tools. A "character" is either a
 * well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) or, where
 * the bytes are malformed, a single byte on its own. Segmenting this way never splits a valid
 * multi-byte character and never needs to throw on arbitrary bytes.
 */
public final class Utf8 {
  private Utf8() {}

  /** Code point reported for a malformed byte (it is its own one-byte "character"). */
  static final int INVALID = -1;

  /**
   * The byte length of the character starting at {@code i}: 1..4 for a well-formed sequence, 1 for
   * a malformed byte (including a stray continuation byte).
   */
  public static int length(byte[] b, int i) {
    int c = b[i] & 0xff;
    if (c < 0x80) return 1;
    int n;
    int lo = 0x80;
    int hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      if (c == 0xe0) lo = 0xa0; // overlong
      if (c == 0xed) hi = 0x9f; // surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      if (c == 0xf0) lo = 0x90; // overlong
      if (c == 0xf4) hi = 0x8f; // above U+10FFFF
    } else {
      return 1;
    }
    if (i + n > b.length) return 1;
    int c1 = b[i + 1] & 0xff;
    if (c1 < lo || c1 > hi) return 1;
    for (int k = 2; k < n; k++) {
      int ck = b[i + k] & 0xff;
      if (ck < 0x80 || ck > 0xbf) return 1;
    }
    return n;
  }

  /** The code point of the character at {@code i} with byte length {@code len}, or INVALID. */
  static int codePoint(byte[] b, int i, int len) {
    int c = b[i] & 0xff;
    switch (len) {
      case 1:
        return c < 0x80 ? c : INVALID;
      case 2:
        return ((c & 0x1f) << 6) | (b[i + 1] & 0x3f);
      case 3:
        return ((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f);
      default:
        return ((c & 0x07) << 18)
            | ((b[i + 1] & 0x3f) << 12)
            | ((b[i + 2] & 0x3f) << 6)
            | (b[i + 3] & 0x3f);
    }
  }

  /** Start offsets of every character, plus {@code b.length} as a final sentinel. */
  public static int[] starts(byte[] b) {
    int[] s = new int[b.length + 1];
    int n = 0;
    for (int i = 0; i < b.length; i += length(b, i)) s[n++] = i;
    s[n++] = b.length;
    return java.util.Arrays.copyOf(s, n);
  }

  /**
   * Byte offsets where each user-perceived character starts (an extended grapheme cluster of
   * Unicode's UAX #29, as {@link java.text.BreakIterator#getCharacterInstance} finds them: a letter
   * with its combining marks, an emoji with its modifiers and joiners, a flag), plus {@code
   * b.length}. A malformed byte is a character of its own.
   */
  public static int[] clusters(byte[] b) {
    StringBuilder sb = new StringBuilder(b.length);
    int[] byteAt = new int[2 * b.length + 1]; // byte offset of each UTF-16 index
    java.util.BitSet cut = new java.util.BitSet(b.length + 1); // forced: around malformed bytes
    for (int i = 0; i < b.length; ) {
      int len = length(b, i);
      boolean bad = len == 1 && (b[i] & 0x80) != 0;
      String c = bad ? "\uFFFD" : new String(b, i, len, java.nio.charset.StandardCharsets.UTF_8);
      for (int k = 0; k < c.length(); k++) byteAt[sb.length() + k] = i;
      sb.append(c);
      if (bad) {
        cut.set(i);
        cut.set(i + 1);
      }
      i += len;
    }
    byteAt[sb.length()] = b.length;
    java.text.BreakIterator it =
        java.text.BreakIterator.getCharacterInstance(java.util.Locale.ROOT);
    it.setText(sb.toString());
    for (int p = it.first(); p != java.text.BreakIterator.DONE; p = it.next()) cut.set(byteAt[p]);
    cut.set(0);
    cut.set(b.length);
    return cut.stream().toArray();
  }

  /** ASCII whitespace: space, \t, \n, \u000b (VT), \f, \r. */
  static boolean isAsciiWhitespace(int cp) {
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0d);
  }

  /**
   * Whitespace for the analysis: ASCII whitespace, or a code point whose Unicode general category
   * is Z* (space, line or paragraph separator, e.g. U+00A0, U+3000).
   */
  static boolean isWhitespace(int cp) {
    if (cp < 0) return false;
    if (cp < 0x80) return isAsciiWhitespace(cp);
    int t = Character.getType(cp);
    return t == Character.SPACE_SEPARATOR
        || t == Character.LINE_SEPARATOR
        || t == Character.PARAGRAPH_SEPARATOR;
  }

  /**
   * Punctuation for the analysis: printable ASCII that is neither a letter, a digit nor a space
   * (the 32 characters of Python's {@code string.punctuation}, symbols such as $+<=>^`|~ included),
   * or a non-ASCII code point whose Unicode general category is P* (e.g. the em dash U+2014, curly
   * quotes, the ideographic full stop U+3002).
   */
  static boolean isPunctuation(int cp) {
    if (cp < 0) return false;
    if (cp < 0x80) {
      return (cp >= 0x21 && cp <= 0x2f)
          || (cp >= 0x3a && cp <= 0x40)
          || (cp >= 0x5b && cp <= 0x60)
          || (cp >= 0x7b && cp <= 0x7e);
    }
    return switch (Character.getType(cp)) {
      case Character.CONNECTOR_PUNCTUATION,
          Character.DASH_PUNCTUATION,
          Character.START_PUNCTUATION,
          Character.END_PUNCTUATION,
          Character.INITIAL_QUOTE_PUNCTUATION,
          Character.FINAL_QUOTE_PUNCTUATION,
          Character.OTHER_PUNCTUATION ->
          true;
      default -> false;
    };
  }

  /** Whitespace or punctuation (see {@link #isWhitespace} and {@link #isPunctuation}). */
  static boolean isSeparator(int cp) {
    return isWhitespace(cp) || isPunctuation(cp);
  }
}
