package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * Follows a Responses API stream ({@code event: response.*} SSE) as it passes through, event by
 * event, without holding any back or dropping any: the usage is in the closing event
 * ({@code response.completed}, {@code response.incomplete} or {@code response.failed}), under
 * {@code response.usage}, and text and argument deltas are counted as the estimate of output
 * tokens for a stream that ends without one. Only the closing event is parsed. Not thread-safe:
 * one per stream.
 */
public final class ResponsesSseUsage implements StreamTap {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final byte[][] DELTAS = {
      bytes("\"response.output_text.delta\""), bytes("\"response.function_call_arguments.delta\""),
      bytes("\"response.refusal.delta\"")};
  private static final byte[][] CLOSING = {
      bytes("\"response.completed\""), bytes("\"response.incomplete\""), bytes("\"response.failed\"")};

  private ByteString pending = ByteString.emptyByteString();
  private Usage usage;
  private long contentChunks;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Override
  public ByteString onChunk(ByteString chunk) {
    ByteString buf = pending.isEmpty() ? chunk : pending.concat(chunk);
    int start = 0;
    int end;
    while ((end = eventEnd(buf, start)) > 0) {
      inspect(buf.slice(start, end).toArrayUnsafe());
      start = end;
    }
    pending = buf.drop(start);
    return start == 0 ? ByteString.emptyByteString() : buf.take(start);
  }

  @Override
  public ByteString flush() {
    ByteString rest = pending;
    pending = ByteString.emptyByteString();
    if (!rest.isEmpty()) {
      inspect(rest.toArrayUnsafe());
    }
    return rest;
  }

  @Override
  public Usage usage() {
    return usage;
  }

  @Override
  public long contentChunks() {
    return contentChunks;
  }

  /** Reads one event: counts a delta, or takes the usage of a closing event. */
  private void inspect(byte[] event) {
    // The event's type is the first "type" of its data (the API writes it first); a delta's text
    // cannot hold an unescaped quote, so the quoted names below match only as JSON strings.
    for (byte[] d : DELTAS) {
      if (indexOf(event, d) >= 0) {
        contentChunks++;
        return;
      }
    }
    for (byte[] c : CLOSING) {
      if (indexOf(event, c) >= 0) {
        Usage u = closingUsage(event);
        if (u != null) {
          usage = u;
        }
        return;
      }
    }
  }

  /** The usage of a closing event's {@code response}, or null when its data has none. */
  static Usage closingUsage(byte[] event) {
    String text = new String(event, StandardCharsets.UTF_8);
    StringBuilder data = new StringBuilder(text.length());
    for (String line : text.split("\r?\n")) {
      if (line.startsWith("data:")) {
        data.append(line.startsWith("data: ") ? line.substring(6) : line.substring(5)).append('\n');
      }
    }
    try {
      JsonNode n = JSON.readTree(data.toString());
      if (n == null || !n.path("type").asText("").startsWith("response.")) {
        return null;
      }
      return usage(n.path("response").path("usage"));
    } catch (IOException e) {
      return null;
    }
  }

  /** A Responses usage object ({@code input_tokens}, {@code output_tokens}, cached tokens), or null. */
  public static Usage usage(JsonNode u) {
    if (!u.isObject()) {
      return null;
    }
    long cached = u.path("input_tokens_details").path("cached_tokens").asLong(0);
    return new Usage(Math.max(0, u.path("input_tokens").asLong(0)), Math.max(0, u.path("output_tokens").asLong(0)),
        Math.max(0, cached), 0);
  }

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

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) continue outer;
      }
      return i;
    }
    return -1;
  }
}
