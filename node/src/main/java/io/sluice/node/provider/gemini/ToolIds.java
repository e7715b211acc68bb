package io.sluice.node.provider.gemini;

import java.security.SecureRandom;

/**
 * The ids Sluice gives Gemini's function calls, which have none of their own. An id is
 * {@code call_} and 24 base-62 characters; when the call came with a thought signature, the id
 * carries it after {@link #SEPARATOR}, in base64url without padding, so the whole id stays within
 * {@code [A-Za-z0-9_-]} (the pattern Anthropic's API holds tool ids to). A client that replays the
 * call sends the id back, and the encoder puts the signature back on the functionCall part: Gemini
 * 3 refuses a replayed function call without the signature it came with.
 */
final class ToolIds {
  static final String PREFIX = "call_";
  static final String SEPARATOR = "__ts_";
  private static final int RANDOM_CHARS = 24;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ID_CHARS =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();

  private ToolIds() {}

  /** A fresh id without a signature. */
  static String newId() {
    StringBuilder b = new StringBuilder(PREFIX.length() + RANDOM_CHARS).append(PREFIX);
    for (int i = 0; i < RANDOM_CHARS; i++) {
      b.append(ID_CHARS[RANDOM.nextInt(ID_CHARS.length)]);
    }
    return b.toString();
  }

  /** {@code id} carrying {@code signature} (standard base64 as Gemini sends it); {@code id} when there is none. */
  static String withSignature(String id, String signature) {
    if (signature == null || signature.isEmpty()) {
      return id;
    }
    StringBuilder b = new StringBuilder(id.length() + SEPARATOR.length() + signature.length())
        .append(id).append(SEPARATOR);
    for (int i = 0; i < signature.length(); i++) {
      char c = signature.charAt(i);
      switch (c) {
        case '+' -> b.append('-');
        case '/' -> b.append('_');
        case '=' -> { } // padding is restored from the length
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * The thought signature an id of Sluice's carries, as standard padded base64; null for an id
   * without one and for any id Sluice did not make (another provider's, a client's own).
   */
  static String signature(String id) {
    if (id == null || !id.startsWith(PREFIX)) {
      return null;
    }
    int sep = PREFIX.length() + RANDOM_CHARS;
    if (id.length() <= sep + SEPARATOR.length() || !id.startsWith(SEPARATOR, sep)) {
      return null;
    }
    for (int i = PREFIX.length(); i < sep; i++) {
      char c = id.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')) {
        return null;
      }
    }
    String packed = id.substring(sep + SEPARATOR.length());
    StringBuilder b = new StringBuilder(packed.length() + 3);
    for (int i = 0; i < packed.length(); i++) {
      char c = packed.charAt(i);
      b.append(c == '-' ? '+' : c == '_' ? '/' : c);
    }
    while (b.length() % 4 != 0) {
      b.append('=');
    }
    return b.toString();
  }
}
