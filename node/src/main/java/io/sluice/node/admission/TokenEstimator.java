package io.sluice.node.admission;

import io.sluice.node.inference.TokenCounter;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.charset.StandardCharsets;

/**
 * Counts prompt tokens with a real tokenizer (jtokkit): {@code o200k_base}, the encoding of the
 * GPT-4o and later families, or {@code cl100k_base} for older models. Used only for the estimate
 * reserved before forwarding; the upstream's reported usage replaces it.
 *
 * <p>Counting is on every request's path, so for {@code o200k} the text is split into the
 * tokenizer's pieces by {@link O200kPieces} instead of jtokkit's regular expression, pieces are
 * counted by {@link BpeRanks} (jtokkit's rank file, a fraction of jtokkit's memory), and the count
 * of each piece is remembered (a bounded map, as the word cache of Hugging Face's BPE tokenizers):
 * pieces are mostly words, and text repeats its words. The counts are exactly jtokkit's. Special
 * tokens such as {@code <|endoftext|>} count as ordinary text, as the upstream counts user text.
 *
 * <p>Memory and time per piece are bounded: a piece longer than {@link #MAX_EXACT_PIECE} chars
 * (no word is; a base64 blob or a run of one letter can be megabytes) is counted in slices of that
 * length, each exactly, and the counts are added. The merge's scratch is then at most ~36 bytes per
 * byte of one slice (~1.2 MB) whatever the prompt, and the time is linear in the text with the
 * constant of one slice's O(L log L) merge. Only merges near a slice boundary can differ from the
 * whole piece's, so the count moves by a few tokens per 8,192 chars (a slice of a long run has some
 * 1,000 or more tokens; TokenEstimatorTest holds it to jtokkit within one token per slice). For
 * {@code cl100k}, counted by jtokkit, texts are handed over in slices of the same length.
 */
public final class TokenEstimator {
  /** Longer pieces are rare and not worth remembering. */
  private static final int MAX_CACHED_PIECE = 32;
  /** Pieces (and, for cl100k, texts) longer than this many chars are counted slice by slice. */
  static final int MAX_EXACT_PIECE = 8192;

  private final EncodingRegistry registry = Encodings.newLazyEncodingRegistry();
  private final BpeRanks o200k;
  /** Null when the cache is off. */
  private final PieceCounts pieceCounts;

  /** @param cacheEntries how many piece counts to remember ({@code sluice.quota.token-cache-entries}) */
  public TokenEstimator(int cacheEntries) {
    this.o200k = BpeRanks.load("/com/knuddels/jtokkit/o200k_base.tiktoken");
    this.pieceCounts = cacheEntries > 0 ? new PieceCounts(cacheEntries) : null;
  }

  /**
   * The counter for {@code encoding} ({@code o200k} or {@code cl100k}). An encoding's ranks take
   * tens of MB of heap, so {@code cl100k} is loaded only when first asked for.
   */
  public TokenCounter counter(String encoding) {
    if ("cl100k".equals(encoding)) {
      com.knuddels.jtokkit.api.Encoding cl100k = registry.getEncoding(EncodingType.CL100K_BASE);
      return text -> countSliced(cl100k, text);
    }
    return this::countO200k;
  }

  /**
   * A counter for one request that caps the CPU its counting can take: the first {@code exactChars}
   * chars of the request's texts (over all its calls) are counted exactly by {@link
   * #counter(String)}; beyond them each text's remaining chars are estimated at the tokens per char
   * counted so far in this request (a quarter, when nothing was counted), in constant time. The
   * estimate is only the reservation; the upstream's usage settles it. Not thread-safe: one
   * request's scan is sequential.
   */
  public TokenCounter forRequest(String encoding, long exactChars) {
    return budgeted(counter(encoding), exactChars);
  }

  /** Tokens per char assumed before any text of the request was counted (English is ~0.25). */
  static final double DEFAULT_TOKENS_PER_CHAR = 0.25;

  static TokenCounter budgeted(TokenCounter exact, long exactChars) {
    return new TokenCounter() {
      private long chars;
      private long tokens;

      @Override
      public int count(String text) {
        long left = exactChars - chars;
        if (left >= text.length()) {
          int t = exact.count(text);
          chars += text.length();
          tokens += t;
          return t;
        }
        int head = (int) Math.max(0, left);
        if (head > 0 && Character.isHighSurrogate(text.charAt(head - 1))) {
          head--;
        }
        int counted = head > 0 ? exact.count(text.substring(0, head)) : 0;
        chars += head;
        tokens += counted;
        double perChar = chars == 0 ? DEFAULT_TOKENS_PER_CHAR : (double) tokens / chars;
        long estimate = counted + (long) Math.ceil((text.length() - head) * perChar);
        return (int) Math.min(Integer.MAX_VALUE, estimate);
      }
    };
  }

  /** jtokkit's count, over slices of at most {@link #MAX_EXACT_PIECE} chars. */
  private static int countSliced(com.knuddels.jtokkit.api.Encoding encoding, String text) {
    int n = text.length();
    if (n <= MAX_EXACT_PIECE) {
      return encoding.countTokensOrdinary(text);
    }
    int total = 0;
    for (int from = 0; from < n; ) {
      int to = sliceEnd(text, from, n);
      total += encoding.countTokensOrdinary(text.substring(from, to));
      from = to;
    }
    return total;
  }

  /** The end of the slice from {@code from}: at most MAX_EXACT_PIECE chars, never inside a surrogate pair. */
  private static int sliceEnd(String text, int from, int to) {
    int end = Math.min(to, from + MAX_EXACT_PIECE);
    if (end < to && Character.isHighSurrogate(text.charAt(end - 1)) && Character.isLowSurrogate(text.charAt(end))) {
      end--;
    }
    return end;
  }

  /** The {@code o200k_base} token count of {@code text}. */
  int countO200k(String text) {
    int n = text.length();
    int total = 0;
    int i = 0;
    while (i < n) {
      int end = O200kPieces.match(text, i, n);
      if (end - i == 1 && text.charAt(i) < 0x80) {
        total += 1; // every single byte is a token
      } else {
        total += piece(text, i, end);
      }
      i = end;
    }
    return total;
  }

  private int piece(String text, int from, int to) {
    if (to - from > MAX_EXACT_PIECE) {
      int total = 0;
      for (int p = from; p < to; ) {
        int end = sliceEnd(text, p, to);
        total += encode(text, p, end);
        p = end;
      }
      return total;
    }
    if (to - from > MAX_CACHED_PIECE || pieceCounts == null) {
      return encode(text, from, to);
    }
    int known = pieceCounts.get(text, from, to);
    if (known >= 0) {
      return known;
    }
    int count = encode(text, from, to);
    pieceCounts.put(text, from, to, count);
    return count;
  }

  private int encode(String text, int from, int to) {
    byte[] utf8 = text.substring(from, to).getBytes(StandardCharsets.UTF_8);
    return o200k.count(utf8, 0, utf8.length);
  }
}
