package io.sluice.node.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.pekko.util.ByteString;

/**
 * Gemini's {@code streamGenerateContent?alt=sse} body as neutral events. The body is SSE with
 * {@code data:} lines only, each event a whole GenerateContentResponse, no event names and no
 * terminator: the end of the body ends the stream. The first event gives Started; text parts give
 * text deltas (thought summaries are dropped); each functionCall part, which Gemini sends whole,
 * is the next tool call with all its arguments at once; the event with a {@code finishReason}
 * gives Finished (TOOL_CALLS when the stream called functions).
 *
 * <p>Every event's usageMetadata is the running total so far. Each change is reported, so a stream
 * cut short is charged the last total it carried, until the event with the finish reason: its
 * total is the one charged, and whatever follows it is not. An {@code error} object in an event
 * (Google sends one when the stream fails after it began) gives Failed; an event that is not JSON
 * also ends the stream as Failed, since the rest cannot be trusted.
 *
 * <p>Bytes may be split anywhere, inside a line or a UTF-8 character: only whole lines are decoded.
 */
final class GeminiStreamDecoder implements StreamDecoder {
  private final Supplier<String> ids;
  private ByteString pending = ByteString.emptyByteString();
  private StringBuilder data;
  private boolean started;
  private boolean finished;
  private boolean failed;
  private boolean calls;
  private int nextTool;
  private Usage usage;
  /** The body has ended: an event still held was cut off unless it parses whole. */
  private boolean ending;

  GeminiStreamDecoder(Supplier<String> ids) {
    this.ids = ids;
  }

  @Override
  public List<ChatEvent> decode(ByteString chunk) {
    List<ChatEvent> out = new ArrayList<>(2);
    ByteString buf = pending.isEmpty() ? chunk.compact() : pending.concat(chunk).compact();
    int start = 0;
    int n = buf.length();
    for (int i = 0; i < n; i++) {
      if (buf.apply(i) == '\n') {
        int end = i > start && buf.apply(i - 1) == '\r' ? i - 1 : i;
        line(buf.slice(start, end), out);
        start = i + 1;
      }
    }
    pending = start == 0 ? buf : buf.drop(start);
    return out;
  }

  @Override
  public List<ChatEvent> end() {
    ending = true;
    List<ChatEvent> out = new ArrayList<>(2);
    if (!pending.isEmpty()) {
      ByteString rest = pending;
      pending = ByteString.emptyByteString();
      if (rest.apply(rest.length() - 1) == '\r') {
        rest = rest.dropRight(1);
      }
      line(rest, out);
    }
    line(ByteString.emptyByteString(), out);
    return out;
  }

  private void line(ByteString line, List<ChatEvent> out) {
    if (line.isEmpty()) {
      if (data != null) {
        String event = data.toString();
        data = null;
        if (!failed) {
          event(event, out);
        }
      }
      return;
    }
    String text = line.decodeString(StandardCharsets.UTF_8);
    if (!text.startsWith("data:")) {
      return; // a comment, or a field Gemini does not send
    }
    String value = text.substring(text.length() > 5 && text.charAt(5) == ' ' ? 6 : 5);
    if (data == null) {
      data = new StringBuilder(value.length());
    } else {
      data.append('\n');
    }
    data.append(value);
  }

  private void event(String text, List<ChatEvent> out) {
    if (text.isBlank()) {
      return;
    }
    JsonNode d;
    try {
      d = GeminiCodec.JSON.readTree(text);
    } catch (IOException e) {
      d = null;
    }
    if (d == null || !d.isObject()) {
      failed = true;
      out.add(new ChatEvent.Failed("api_error", ending ? "The upstream's stream was cut off in the middle of an event."
          : "The upstream sent a stream event that is not valid JSON."));
      return;
    }
    if (d.path("error").isObject()) {
      failed = true;
      JsonNode err = d.get("error");
      out.add(new ChatEvent.Failed(GeminiErrors.clean(GeminiCodec.text(err, "status")),
          GeminiErrors.clean(GeminiCodec.text(err, "message"))));
      return;
    }
    if (finished) {
      return; // the finishing event's usage is the one charged
    }
    if (!started) {
      started = true;
      out.add(new ChatEvent.Started(GeminiCodec.text(d, "responseId"), GeminiCodec.text(d, "modelVersion")));
    }
    JsonNode candidate = d.path("candidates").path(0);
    for (JsonNode part : candidate.path("content").path("parts")) {
      if (part.path("thought").asBoolean(false)) {
        continue;
      }
      if (part.has("functionCall")) {
        Part.ToolCall c = GeminiCodec.toolCall(part, ids);
        int index = nextTool++;
        calls = true;
        out.add(new ChatEvent.ToolCallStarted(index, c.id(), c.name()));
        out.add(new ChatEvent.ToolArgumentsDelta(index, c.arguments()));
      } else if (part.hasNonNull("text")) {
        String t = part.get("text").asText();
        if (!t.isEmpty()) {
          out.add(new ChatEvent.TextDelta(t));
        }
      }
    }
    Usage u = GeminiCodec.usageOf(d.get("usageMetadata"));
    if (u != null && !Objects.equals(u, usage)) {
      usage = u;
      out.add(new ChatEvent.UsageReported(u));
    }
    String reason = GeminiCodec.text(candidate, "finishReason");
    FinishReason finish = reason != null ? GeminiCodec.finishReason(reason, calls)
        : candidate.isMissingNode() ? GeminiCodec.blocked(d) : null;
    if (finish != null) {
      finished = true;
      out.add(new ChatEvent.Finished(finish));
    }
  }
}
