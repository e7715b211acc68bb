package io.sluice.node.provider.openai;

import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * Follows an OpenAI SSE stream as it passes through, chunk by chunk, without holding it back: it
 * frames events, reads the usage chunk, counts content chunks (the estimate of generated tokens
 * when a stream ends without usage), and drops the usage chunk when the client did not ask for
 * it (Sluice asked the upstream for it to charge the stream). Not thread-safe: one per stream.
 */
public final class SseUsage implements StreamTap {
  private static final byte[] USAGE = "\"usage\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTENT = "\"content\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EMPTY_CHOICES = "\"choices\":[]".getBytes(StandardCharsets.US_ASCII);

  private final boolean strip;
  private ByteString pending = ByteString.emptyByteString();
  /** No event end starts in {@code pending} before this offset: the search resumes here. */
  private int searched;
  private Usage usage;
  private long contentChunks;

  /** @param strip drop the usage chunk (the client did not ask for it) */
  public SseUsage(boolean strip) {
    this.strip = strip;
  }

  /** The bytes to pass on for {@code chunk}: every complete event in it, less a stripped one. */
  public ByteString onChunk(ByteString chunk) {
    // One contiguous buffer, searched only past what earlier chunks searched: an event that
    // arrives in many small chunks costs time linear in its length, not quadratic.
    ByteString buf = pending.isEmpty() ? chunk : pending.concat(chunk).compact();
    int start = 0;
    ByteString out = ByteString.emptyByteString();
    int end;
    int from = searched;
    while ((end = eventEnd(buf, from)) > 0) {
      ByteString event = buf.slice(start, end);
      if (!inspect(event)) {
        out = out.isEmpty() ? event : out.concat(event);
      }
      start = end;
      from = end;
    }
    pending = start == 0 ? buf : buf.drop(start);
    // An end needs up to three bytes ("\n\r\n"), so the last two may still begin one.
    searched = Math.max(0, pending.length() - 2);
    if (start == 0) {
      return ByteString.emptyByteString();
    }
    return out;
  }

  /** Whatever is left when the stream ends (an unterminated last event), passed on as is. */
  public ByteString flush() {
    ByteString rest = pending;
    pending = ByteString.emptyByteString();
    searched = 0;
    if (!rest.isEmpty()) {
      inspect(rest);
    }
    return rest;
  }

  public Usage usage() {
    return usage;
  }

  public long contentChunks() {
    return contentChunks;
  }

  /** Reads one event; true when it must be dropped. */
  private boolean inspect(ByteString event) {
    byte[] bytes = event.toArrayUnsafe();
    int c = indexOf(bytes, CONTENT, 0);
    if (c >= 0 && c + CONTENT.length < bytes.length && bytes[c + CONTENT.length] != '"') {
      contentChunks++; // a chunk with text; the role-only first chunk ("content":"") carries none
    }
    int u = indexOf(bytes, USAGE, 0);
    if (u < 0) {
      return false;
    }
    int i = u + USAGE.length;
    while (i < bytes.length && (bytes[i] == ' ' || bytes[i] == ':')) {
      i++;
    }
    if (i >= bytes.length || bytes[i] != '{') {
      return false; // "usage": null, as OpenAI sends on every chunk but the last
    }
    int data = indexOf(bytes, "{".getBytes(StandardCharsets.US_ASCII), 0);
    Usage t = data < 0 ? null : UsageScan.of(bytes, data, lastBrace(bytes) + 1 - data);
    if (t != null) {
      usage = t;
    }
    return strip && indexOf(bytes, EMPTY_CHOICES, 0) >= 0;
  }

  private static int lastBrace(byte[] b) {
    for (int i = b.length - 1; i >= 0; i--) {
      if (b[i] == '}') return i;
    }
    return b.length - 1;
  }

  /** The offset just past the blank line that ends the event starting at {@code from}, or -1. */
  private static int eventEnd(ByteString buf, int from) {
    int n = buf.length();
    for (int i = from; i + 1 < n; i++) {
      if (buf.apply(i) == '\n') {
        byte next = buf.apply(i + 1);
        if (next == '\n') {
          return i + 2;
        }
        if (next == '\r' && i + 2 < n && buf.apply(i + 2) == '\n') {
          return i + 3;
        }
      }
    }
    return -1;
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}
