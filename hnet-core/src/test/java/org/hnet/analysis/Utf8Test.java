package org.hnet.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Characters as a reader sees them, on arbitrary bytes. */
class Utf8Test {
  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void clustersKeepAccentsEmojiAndFlagsWholeAndMalformedBytesApart() {
    // a (1) | e + U+0301 (1 + 2) | 漢 (3) | 👍🏽 (4 + 4) | 🇫🇷 (4 + 4) | x
    assertArrayEquals(new int[] {0, 1, 4, 7, 15, 23, 24}, Utf8.clusters(b("ae\u0301漢👍🏽🇫🇷x")));
    // E6 BC is a cut 3-byte sequence: two malformed bytes, each its own; a combining accent after
    // a malformed byte does not join it
    byte[] bad = {'a', (byte) 0xE6, (byte) 0xBC, (byte) 0xCC, (byte) 0x81, 'b'};
    assertArrayEquals(new int[] {0, 1, 2, 3, 5, 6}, Utf8.clusters(bad));
    assertArrayEquals(new int[] {0}, Utf8.clusters(new byte[0]));
    // CR LF is one character
    assertArrayEquals(new int[] {0, 2, 3}, Utf8.clusters(b("\r\nz")));
  }
}
