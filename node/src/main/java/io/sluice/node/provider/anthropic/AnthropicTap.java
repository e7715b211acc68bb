package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.Usage;
import io.sluice.node.provider.StreamTap;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;

/**
 * Follows an Anthropic stream that passes through to an Anthropic client unchanged. It hands on
 * every whole event as soon as it is complete (holding back only a partial one) and drops
 * nothing. Only the two events that carry usage, {@code message_start} and
 * {@code message_delta}, are parsed as JSON; every other event is recognised from its bytes, so
 * passing text deltas through costs a scan for the event's end and name, not a parse.
 */
final class AnthropicTap implements StreamTap {
  private static final byte[] EVENT = "event:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DATA = "data:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MESSAGE_START = "message_start".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MESSAGE_DELTA = "message_delta".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] BLOCK_DELTA = "content_block_delta".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TEXT_DELTA = "\"text_delta\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] JSON_DELTA = "\"input_json_delta\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TYPE = "\"type\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[][] NAMES = {BLOCK_DELTA, MESSAGE_START, MESSAGE_DELTA};

  private ByteString pending = ByteString.emptyByteString();
  private boolean sawUsage;
  private long input;
  private long cacheRead;
  private long cacheWrite;
  private long output;
  private long contentChunks;

  @Override
  public ByteString onChunk(ByteString chunk) {
    // One contiguous buffer, so finding an event's end reads bytes directly.
    ByteString buf = pending.isEmpty() ? chunk.compact() : pending.concat(chunk).compact();
    int start = 0;
    int end;
    while ((end = eventEnd(buf, start)) > 0) {
      inspect(buf.slice(start, end).toArrayUnsafe());
      start = end;
    }
    if (start == 0) {
      pending = buf;
      return ByteString.emptyByteString();
    }
    pending = buf.drop(start);
    return buf.take(start);
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
    return sawUsage ? new Usage(input + cacheWrite + cacheRead, output, cacheRead, cacheWrite) : null;
  }

  @Override
  public long contentChunks() {
    return contentChunks;
  }

  private void inspect(byte[] event) {
    byte[] name = name(event);
    if (name == MESSAGE_START || name == MESSAGE_DELTA) {
      usage(event, name == MESSAGE_START);
    } else if (name == BLOCK_DELTA && (indexOf(event, TEXT_DELTA, 0) >= 0 || indexOf(event, JSON_DELTA, 0) >= 0)) {
      contentChunks++;
    }
  }

  /**
   * Which of the three interesting events this is, by its {@code event:} line, else (a stream
   * without event names) by the type its data starts with; null for any other.
   */
  private static byte[] name(byte[] event) {
    int e = lineValue(event, EVENT);
    int from = e >= 0 ? e : lineValue(event, DATA);
    if (from < 0) {
      return null;
    }
    if (e < 0) {
      int t = indexOf(event, TYPE, from);
      if (t < 0) {
        return null;
      }
      from = t + 6;
      while (from < event.length && (event[from] == ' ' || event[from] == ':' || event[from] == '"')) {
        from++;
      }
    }
    for (byte[] n : NAMES) {
      if (startsWith(event, from, n) && (from + n.length == event.length || !isNameByte(event[from + n.length]))) {
        return n;
      }
    }
    return null;
  }

  private void usage(byte[] event, boolean start) {
    int d = lineValue(event, DATA);
    if (d < 0) {
      return;
    }
    JsonNode root;
    try {
      root = AnthropicCodec.JSON.readTree(new String(event, d, event.length - d, StandardCharsets.UTF_8)
          .replace("\ndata:", "\n"));
    } catch (IOException e) {
      return; // not JSON: the client will see the same bytes and fail on them; nothing to charge from
    }
    JsonNode u = start ? root.path("message").path("usage") : root.path("usage");
    if (!u.isObject()) {
      return;
    }
    sawUsage = true;
    input = field(u, "input_tokens", input);
    cacheWrite = field(u, "cache_creation_input_tokens", cacheWrite);
    cacheRead = field(u, "cache_read_input_tokens", cacheRead);
    output = field(u, "output_tokens", output);
  }

  private static long field(JsonNode u, String name, long current) {
    JsonNode v = u.get(name);
    return v == null || v.isNull() ? current : v.asLong(current);
  }

  private static boolean isNameByte(byte b) {
    return b == '_' || (b >= 'a' && b <= 'z');
  }

  /** The offset of a line's value (after the field's colon and one space), or -1 when no line has the field. */
  private static int lineValue(byte[] event, byte[] field) {
    for (int i = 0; i <= event.length - field.length; i++) {
      if ((i == 0 || event[i - 1] == '\n') && startsWith(event, i, field)) {
        int v = i + field.length;
        return v < event.length && event[v] == ' ' ? v + 1 : v;
      }
      // jump to the next line
      while (i < event.length && event[i] != '\n') {
        i++;
      }
    }
    return -1;
  }

  private static boolean startsWith(byte[] hay, int at, byte[] needle) {
    if (at + needle.length > hay.length) {
      return false;
    }
    for (int j = 0; j < needle.length; j++) {
      if (hay[at + j] != needle[j]) {
        return false;
      }
    }
    return true;
  }

  private static int indexOf(byte[] hay, byte[] needle, int from) {
    for (int i = from; i <= hay.length - needle.length; i++) {
      if (startsWith(hay, i, needle)) {
        return i;
      }
    }
    return -1;
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
}
