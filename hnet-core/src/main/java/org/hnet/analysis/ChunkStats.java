package org.hnet.analysis;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hnet.HNetException;

/**
 * Statistics of a learned chunking, per stage, all at the byte level.
 *
 * <p>Inputs: the text bytes and, per stage s, a {@code boolean[]} of the text's length that is true
 * at each byte where a stage-s chunk starts. Position 0 is always a boundary (the forced one at the
 * start of a sequence) and stage s+1 boundaries are a subset of stage s boundaries; {@link
 * #compute} checks both.
 *
 * <h2>Definitions</h2>
 *
 * <ul>
 *   <li><b>boundaries</b>: chunk starts at the stage, the forced one at 0 included (so it is also
 *       the number of chunks). <b>compression</b> = bytes / boundaries (bytes per chunk).
 *   <li><b>chunk length</b>: bytes from a boundary to the next (or to the end). The histogram
 *       counts lengths 1..64 in bins 0..63 and longer ones in bin 64. The median is the usual one
 *       (mean of the two middle values for an even count); p90 is the nearest-rank percentile: the
 *       smallest length L with at least 90% of the chunks of length ≤ L.
 *   <li><b>top chunks</b>: the most frequent chunk byte strings (ties by text), decoded leniently
 *       as UTF-8 in {@code text} (malformed bytes become U+FFFD); the display form keeps whole
 *       characters, shows each byte of a split or malformed character as ‹hex›, and space as ␣,
 *       newline as ↵, tab as ⇥, CR as ␍.
 *   <li><b>separator</b>: a byte that belongs to a whitespace or punctuation character: ASCII
 *       whitespace and punctuation ({@code string.punctuation}), and every byte of a multi-byte
 *       UTF-8 character whose general category is Z* or P* (e.g. each byte of the em dash —).
 *   <li><b>word-aligned</b> boundary at byte t ≥ 1: byte t or byte t−1 is a separator. So in "the
 *       Grand", a boundary at the space and one at "G" both count. <b>precision</b> = word-aligned
 *       boundaries / boundaries, neither counting the forced boundary at 0 (null if there are no
 *       others).
 *   <li><b>word</b>: a maximal run of non-separator bytes. It is <b>caught</b> if its first byte or
 *       the byte before it is a boundary (the forced boundary at 0 counts here: a word that starts
 *       at 0 or 1 is always caught). <b>recall</b> = caught words / words.
 *   <li><b>random baseline</b>: boundaries placed independently at each position t ≥ 1 with
 *       probability r = (boundaries − 1) / (bytes − 1), the stage's own rate; position 0 stays
 *       forced. Both baselines are exact expectations, no sampling:
 *       <ul>
 *         <li>baseline precision = E[aligned] / E[boundaries] = (positions t ≥ 1 whose byte t or
 *             t−1 is a separator) / (bytes − 1): every position is equally likely, so this is the
 *             probability that a random boundary is aligned;
 *         <li>baseline recall = (1/words) Σ<sub>words</sub> P(caught), where P(caught) = 1 for a
 *             word starting at 0 or 1 (the forced boundary is its first byte or the byte before)
 *             and 1 − (1 − r)² for a word starting at t ≥ 2 (two independent eligible positions, t
 *             and t−1). The number of words is fixed, so this is E[recall] exactly.
 *       </ul>
 *   <li><b>no word alignment for unspaced scripts</b>: over the letters of the text (Unicode {@link
 *       Character#isLetter}), if more than 50% are Han, Hiragana, Katakana or Hangul, or more than
 *       50% are outside Latin/Greek/Cyrillic while whitespace characters make up less than 5% of
 *       all characters, "words" are not whitespace/punctuation-delimited and the alignment is not
 *       computed: {@link Stage#alignment()} is null and {@link TextProfile#note()} says why;
 *       lengths and top chunks are still reported.
 * </ul>
 *
 * @param bytes text length in bytes
 * @param characters text length in (lenient) UTF-8 characters
 * @param profile script mix and whether word alignment applies
 * @param stages one entry per stage, stage 0 (finest) first
 */
public record ChunkStats(int bytes, int characters, TextProfile profile, List<Stage> stages) {

  /** Chunk lengths at or above this go to the overflow bin of the histogram. */
  public static final int HISTOGRAM_MAX = 64;

  /** Default number of top chunks. */
  public static final int DEFAULT_TOP = 20;

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /**
   * One stage's statistics.
   *
   * @param stage 0 for the byte-level router, 1 for the next, ...
   * @param boundaries chunk starts, the forced one at 0 included (= chunks)
   * @param compression bytes per chunk (bytes / boundaries); null for an empty text
   * @param lengths chunk length distribution in bytes
   * @param top the most frequent chunks, most frequent first
   * @param alignment word alignment, or null when not computed (see {@link TextProfile#note()})
   */
  public record Stage(
      int stage,
      int boundaries,
      Double compression,
      Lengths lengths,
      List<TopChunk> top,
      Alignment alignment) {}

  /**
   * Chunk length distribution in bytes.
   *
   * @param histogram 65 bins: {@code histogram[L-1]} counts chunks of L bytes for L = 1..64, and
   *     {@code histogram[64]} those longer than 64
   * @param max the longest chunk
   * @param mean mean length (null without chunks)
   * @param median median length (null without chunks)
   * @param p90 nearest-rank 90th percentile (null without chunks)
   */
  public record Lengths(int[] histogram, int max, Double mean, Double median, Integer p90) {}

  /**
   * A frequent chunk.
   *
   * @param text the chunk decoded leniently as UTF-8
   * @param display the same with whitespace made visible (␣ ↵ ⇥ ␍)
   * @param count occurrences at the stage
   */
  public record TopChunk(String text, String display, int count) {}

  /**
   * Word alignment of one stage's boundaries (see the class javadoc for the definitions).
   *
   * @param boundaries boundaries excluding the forced one at 0
   * @param aligned of those, the word-aligned ones
   * @param precision aligned / boundaries (null when boundaries = 0)
   * @param words words in the text
   * @param caught of those, the caught ones
   * @param recall caught / words (null when words = 0)
   * @param baselinePrecision expected precision of random boundaries at the same rate
   * @param baselineRecall expected recall of random boundaries at the same rate
   */
  public record Alignment(
      int boundaries,
      int aligned,
      Double precision,
      int words,
      int caught,
      Double recall,
      Double baselinePrecision,
      Double baselineRecall) {}

  /**
   * What the text is made of, and whether word alignment applies to it.
   *
   * @param letters characters that are Unicode letters
   * @param cjkShare share of letters that are Han, Hiragana, Katakana or Hangul
   * @param nonLatinShare share of letters outside Latin, Greek and Cyrillic
   * @param whitespaceShare share of characters that are whitespace
   * @param separatorShare share of bytes that are separators
   * @param wordAlignment whether word alignment is computed
   * @param note why it is not, or null
   */
  public record TextProfile(
      int letters,
      double cjkShare,
      double nonLatinShare,
      double whitespaceShare,
      double separatorShare,
      boolean wordAlignment,
      String note) {}

  /** Statistics for all stages with the default number of top chunks. */
  public static ChunkStats compute(byte[] text, List<boolean[]> boundaries) {
    return compute(text, boundaries, DEFAULT_TOP);
  }

  /**
   * Statistics for all stages.
   *
   * @param boundaries per stage, stage 0 first, each of the text's length
   * @param topN how many top chunks to keep per stage
   * @throws HNetException if the boundaries do not fit the text or each other
   */
  public static ChunkStats compute(byte[] text, List<boolean[]> boundaries, int topN) {
    validate(text, boundaries);
    TextProfile profile = profile(text);
    boolean[] sep = separators(text);
    List<Stage> stages = new ArrayList<>();
    for (int s = 0; s < boundaries.size(); s++) {
      stages.add(stage(text, sep, profile, boundaries.get(s), s, topN));
    }
    return new ChunkStats(text.length, Utf8.starts(text).length - 1, profile, List.copyOf(stages));
  }

  /** This report as indented JSON (nulls kept, so absent alignment reads "alignment": null). */
  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new HNetException("cannot write chunk stats as JSON: " + e.getMessage(), e);
    }
  }

  /** Checks lengths, the forced boundary at 0 and that each stage nests in the one below. */
  static void validate(byte[] text, List<boolean[]> boundaries) {
    for (int s = 0; s < boundaries.size(); s++) {
      boolean[] b = boundaries.get(s);
      if (b == null || b.length != text.length) {
        throw new HNetException(
            "stage "
                + s
                + " boundaries: length "
                + (b == null ? "null" : b.length)
                + ", expected the text length "
                + text.length);
      }
      if (text.length > 0 && !b[0]) {
        throw new HNetException("stage " + s + " boundaries: position 0 must be a boundary");
      }
      if (s > 0) {
        boolean[] below = boundaries.get(s - 1);
        for (int t = 0; t < b.length; t++) {
          if (b[t] && !below[t]) {
            throw new HNetException(
                "stage " + s + " boundary at byte " + t + " is not a stage " + (s - 1) + " one");
          }
        }
      }
    }
  }

  /** sep[t] = byte t belongs to a whitespace or punctuation character. */
  static boolean[] separators(byte[] text) {
    boolean[] sep = new boolean[text.length];
    for (int i = 0; i < text.length; ) {
      int len = Utf8.length(text, i);
      if (Utf8.isSeparator(Utf8.codePoint(text, i, len))) Arrays.fill(sep, i, i + len, true);
      i += len;
    }
    return sep;
  }

  /** Script mix of the text and the rule that decides whether word alignment applies. */
  static TextProfile profile(byte[] text) {
    int chars = 0;
    int letters = 0;
    int cjk = 0;
    int nonLatin = 0;
    int whitespace = 0;
    for (int i = 0; i < text.length; ) {
      int len = Utf8.length(text, i);
      int cp = Utf8.codePoint(text, i, len);
      i += len;
      chars++;
      if (Utf8.isWhitespace(cp)) whitespace++;
      if (cp < 0 || !Character.isLetter(cp)) continue;
      letters++;
      Character.UnicodeScript script = Character.UnicodeScript.of(cp);
      switch (script) {
        case HAN, HIRAGANA, KATAKANA, HANGUL -> {
          cjk++;
          nonLatin++;
        }
        case LATIN, GREEK, CYRILLIC -> {}
        default -> nonLatin++;
      }
    }
    int sepBytes = 0;
    for (boolean b : separators(text)) if (b) sepBytes++;
    double cjkShare = letters == 0 ? 0 : (double) cjk / letters;
    double nonLatinShare = letters == 0 ? 0 : (double) nonLatin / letters;
    double wsShare = chars == 0 ? 0 : (double) whitespace / chars;
    double sepShare = text.length == 0 ? 0 : (double) sepBytes / text.length;
    String note = null;
    if (cjkShare > 0.5) {
      note =
          String.format(
              "%.0f%% of letters are Han/Hiragana/Katakana/Hangul: no whitespace-delimited words",
              100 * cjkShare);
    } else if (nonLatinShare > 0.5 && wsShare < 0.05) {
      note =
          String.format(
              "%.0f%% of letters are outside Latin/Greek/Cyrillic and only %.1f%% of characters"
                  + " are whitespace: no whitespace-delimited words",
              100 * nonLatinShare, 100 * wsShare);
    }
    return new TextProfile(letters, cjkShare, nonLatinShare, wsShare, sepShare, note == null, note);
  }

  private static Stage stage(
      byte[] text, boolean[] sep, TextProfile profile, boolean[] boundary, int s, int topN) {
    int n = text.length;
    int count = 0;
    for (boolean b : boundary) if (b) count++;
    int[] lengths = new int[count];
    Map<Key, int[]> freq = new HashMap<>();
    int k = 0;
    for (int t = 0; t < n; ) {
      int end = t + 1;
      while (end < n && !boundary[end]) end++;
      lengths[k++] = end - t;
      freq.computeIfAbsent(new Key(Arrays.copyOfRange(text, t, end)), x -> new int[1])[0]++;
      t = end;
    }
    Double compression = count == 0 ? null : (double) n / count;
    Alignment alignment = profile.wordAlignment() ? alignment(sep, boundary) : null;
    return new Stage(s, count, compression, lengths(lengths), top(freq, topN), alignment);
  }

  static Lengths lengths(int[] lengths) {
    int[] hist = new int[HISTOGRAM_MAX + 1];
    int max = 0;
    long sum = 0;
    for (int len : lengths) {
      hist[Math.min(len, HISTOGRAM_MAX + 1) - 1]++;
      max = Math.max(max, len);
      sum += len;
    }
    if (lengths.length == 0) return new Lengths(hist, 0, null, null, null);
    int[] sorted = lengths.clone();
    Arrays.sort(sorted);
    int m = sorted.length;
    double median = m % 2 == 1 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0;
    // Nearest rank: the ceil(0.9 m)-th smallest value (1-based).
    int p90 = sorted[(int) Math.ceil(0.9 * m) - 1];
    return new Lengths(hist, max, (double) sum / m, median, p90);
  }

  static Alignment alignment(boolean[] sep, boolean[] boundary) {
    WordAlignment w = new WordAlignment(0);
    w.add(sep, boundary, 0);
    return w.result();
  }

  private static List<TopChunk> top(Map<Key, int[]> freq, int topN) {
    List<Map.Entry<Key, int[]>> entries = new ArrayList<>(freq.entrySet());
    List<TopChunk> all = new ArrayList<>(entries.size());
    for (Map.Entry<Key, int[]> e : entries) {
      String s = new String(e.getKey().bytes(), StandardCharsets.UTF_8);
      all.add(new TopChunk(s, displayBytes(e.getKey().bytes()), e.getValue()[0]));
    }
    all.sort(
        (a, b) ->
            a.count() != b.count()
                ? Integer.compare(b.count(), a.count())
                : a.text().compareTo(b.text()));
    return List.copyOf(all.subList(0, Math.min(Math.max(topN, 0), all.size())));
  }

  /**
   * Bytes for display: whole characters as they are (whitespace made visible, as {@link #display}),
   * and every byte that is not part of a whole character (a chunk that starts or ends inside a
   * multi-byte character, or malformed UTF-8) as ‹hex›, never as U+FFFD.
   */
  public static String displayBytes(byte[] b) {
    return text(b, true);
  }

  /**
   * As {@link #displayBytes}, whitespace left as it is when {@code visibleWhitespace} is false: the
   * text of a byte range that may start or end inside a character.
   */
  public static String text(byte[] b, boolean visibleWhitespace) {
    StringBuilder sb = new StringBuilder(b.length);
    for (int i = 0; i < b.length; ) {
      int len = Utf8.length(b, i);
      if (len == 1 && (b[i] & 0x80) != 0) {
        sb.append(String.format("‹%02x›", b[i] & 0xff));
      } else {
        String c = new String(b, i, len, StandardCharsets.UTF_8);
        sb.append(visibleWhitespace ? display(c) : c);
      }
      i += len;
    }
    return sb.toString();
  }

  /** Whitespace made visible for display: space ␣, newline ↵, tab ⇥, CR ␍, other C0 as pictures. */
  public static String display(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case ' ' -> sb.append('␣');
        case '\n' -> sb.append('↵');
        case '\t' -> sb.append('⇥');
        case '\r' -> sb.append('␍');
        default -> sb.append(c < 0x20 ? (char) (0x2400 + c) : c);
      }
    }
    return sb.toString();
  }

  /** A byte string usable as a map key. */
  private record Key(byte[] bytes) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(bytes, k.bytes);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bytes);
    }
  }
}
