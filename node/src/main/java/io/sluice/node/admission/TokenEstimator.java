package io.sluice.node.admission;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import io.sluice.node.api.RequestScan;
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
 */
public final class TokenEstimator {
  /** Longer pieces are rare and not worth remembering. */
  private static final int MAX_CACHED_PIECE = 32;

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
  public RequestScan.TokenCounter counter(String encoding) {
    return "cl100k".equals(encoding)
        ? registry.getEncoding(EncodingType.CL100K_BASE)::countTokensOrdinary : this::countO200k;
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
