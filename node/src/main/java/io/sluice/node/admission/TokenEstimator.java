package io.sluice.node.admission;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.sluice.node.api.RequestScan;

/**
 * Counts prompt tokens with a real tokenizer (jtokkit): {@code o200k_base}, the encoding of the
 * GPT-4o and later families, or {@code cl100k_base} for older models. Used only for the estimate
 * reserved before forwarding; the upstream's reported usage replaces it.
 */
public final class TokenEstimator {
  private final Encoding o200k;
  private final Encoding cl100k;

  public TokenEstimator() {
    var registry = Encodings.newDefaultEncodingRegistry();
    this.o200k = registry.getEncoding(EncodingType.O200K_BASE);
    this.cl100k = registry.getEncoding(EncodingType.CL100K_BASE);
  }

  /** The counter for {@code encoding} ({@code o200k} or {@code cl100k}). */
  public RequestScan.TokenCounter counter(String encoding) {
    Encoding e = "cl100k".equals(encoding) ? cl100k : o200k;
    return e::countTokens;
  }
}
