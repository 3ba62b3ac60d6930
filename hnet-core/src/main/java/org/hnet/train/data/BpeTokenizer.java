package org.hnet.train.data;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.GptBytePairEncodingParams;
import com.knuddels.jtokkit.api.IntArrayList;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.hnet.HNetException;
import org.hnet.config.TokenizerSpec;

/**
 * The tokenizer of a token-level baseline: GPT-2's byte-level BPE vocabulary ({@code r50k_base}, as
 * JTokkit ships it) cut to its first K ranks, which is BPE with the first K − 256 of GPT-2's merges
 * (its ranks 0–255 are the single bytes, and a merge's parts rank below it). Ids 0..K−1 are those
 * tokens; id K separates documents, as byte 254 does for the byte-level models, so a model using it
 * has {@code vocab_size} K + 1.
 *
 * <p>Written in a config as {@code "tokenizer": "r50k_base:K"} (see {@link TokenizerSpec}).
 */
public final class BpeTokenizer {
  private static final String R50K = TokenizerSpec.R50K;

  // GPT-2's pre-tokenisation, as tiktoken and JTokkit give it for r50k_base
  private static final String R50K_PATTERN =
      "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

  private static final Map<Integer, BpeTokenizer> CACHE = new ConcurrentHashMap<>();

  private final int ranks;
  private final Encoding encoding;
  private final int[] bytesOf; // text bytes of each id (0 for the separator)

  private BpeTokenizer(int ranks, Map<byte[], Integer> encoder, byte[][] pieces) {
    this.ranks = ranks;
    EncodingRegistry registry = Encodings.newLazyEncodingRegistry();
    String name = R50K + ":" + ranks;
    registry.registerGptBytePairEncoding(
        new GptBytePairEncodingParams(
            name,
            Pattern.compile(R50K_PATTERN, Pattern.UNICODE_CHARACTER_CLASS),
            encoder,
            Map.of()));
    this.encoding = registry.getEncoding(name).orElseThrow();
    this.bytesOf = new int[ranks + 1];
    for (int i = 0; i < ranks; i++) bytesOf[i] = pieces[i].length;
  }

  /** The tokenizer a config names (checked as {@link #ranks}); loaded once per process. */
  public static BpeTokenizer of(String spec, int vocabSize, String source) {
    int k = TokenizerSpec.ranks(spec, vocabSize, source);
    try {
      Class.forName("com.knuddels.jtokkit.Encodings");
    } catch (ClassNotFoundException e) {
      throw new HNetException(
          source
              + ": a token-level model needs JTokkit on the class path"
              + " (com.knuddels:jtokkit:1.1.0, an optional dependency of hnet-core)");
    }
    return CACHE.computeIfAbsent(k, BpeTokenizer::load);
  }

  private static BpeTokenizer load(int k) {
    Map<byte[], Integer> encoder = new HashMap<>(k * 2);
    byte[][] pieces = new byte[k][];
    String resource = "/com/knuddels/jtokkit/" + R50K + ".tiktoken";
    try (InputStream in = Encodings.class.getResourceAsStream(resource)) {
      if (in == null)
        throw new HNetException("the " + R50K + " vocabulary is missing from JTokkit");
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      for (String line; (line = r.readLine()) != null; ) {
        int sp = line.indexOf(' ');
        if (sp < 0) continue;
        int rank = Integer.parseInt(line.substring(sp + 1).trim());
        if (rank >= k) continue;
        byte[] piece = Base64.getDecoder().decode(line.substring(0, sp));
        pieces[rank] = piece;
        encoder.put(piece, rank);
      }
    } catch (IOException e) {
      throw new HNetException("cannot read the " + R50K + " vocabulary: " + e.getMessage(), e);
    }
    for (int i = 0; i < k; i++) {
      if (pieces[i] == null) throw new HNetException(R50K + " has no token of rank " + i);
    }
    return new BpeTokenizer(k, encoder, pieces);
  }

  /** The document separator's id (K). */
  public int separator() {
    return ranks;
  }

  /** Tokens of some text. */
  public int[] encode(String text) {
    IntArrayList ids = encoding.encodeOrdinary(text);
    return ids.toArray();
  }

  /** Text bytes of each id, indexed by id (0 for the separator); shared, do not modify. */
  int[] bytesOf() {
    return bytesOf;
  }

  /** The text bytes of {@code ids} (the separator contributes nothing). */
  public byte[] decode(int[] ids) {
    IntArrayList list = new IntArrayList(ids.length);
    for (int id : ids) {
      if (id < 0 || id > ranks) throw new HNetException("token id " + id + " out of range");
      if (id != ranks) list.add(id);
    }
    return encoding.decodeBytes(list);
  }
}
