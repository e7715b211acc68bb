package io.sluice.node.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * Decodes an OpenAI chat.completion.chunk stream into neutral events. Its output is always
 * well-formed for the encoders: {@code Started} once, before anything else; a
 * {@code ToolCallStarted} before a tool call's first arguments, once per index; one
 * {@code Finished}; nothing after {@code Failed} or {@code [DONE]}. Only choice 0 is read (the
 * neutral model has one). An unreadable event is a {@code Failed}: the upstream broke its stream.
 */
final class ChatStreamDecoder implements StreamDecoder, SseReader.Sink {
  private static final byte[] DONE = {'[', 'D', 'O', 'N', 'E', ']'};

  private final SseReader sse = new SseReader();
  private final BitSet toolCalls = new BitSet();
  private List<ChatEvent> out = new ArrayList<>();
  private boolean started;
  private boolean finished;
  private boolean over;

  @Override
  public List<ChatEvent> decode(ByteString chunk) {
    sse.feed(chunk, this);
    return take();
  }

  @Override
  public List<ChatEvent> end() {
    sse.end(this);
    return take();
  }

  private List<ChatEvent> take() {
    if (out.isEmpty()) {
      return List.of();
    }
    List<ChatEvent> events = out;
    out = new ArrayList<>();
    return events;
  }

  @Override
  public void data(byte[] data, int length) {
    if (over) {
      return;
    }
    int end = length;
    while (end > 0 && (data[end - 1] == ' ' || data[end - 1] == '\t')) {
      end--;
    }
    if (end == 0) {
      return; // an empty data line: a keep-alive some servers send
    }
    if (end == DONE.length && Arrays.equals(data, 0, end, DONE, 0, end)) {
      over = true;
      return;
    }
    JsonNode chunk;
    try {
      chunk = ChatWire.JSON.readTree(data, 0, length);
    } catch (IOException e) {
      chunk = null;
    }
    if (chunk == null || !chunk.isObject()) {
      fail("invalid_response", "The upstream sent an unreadable stream event.");
      return;
    }
    if (isError(chunk)) {
      // {"error":{...}} (OpenAI, vLLM), {"error":"..."}, or {"object":"error","message",...} (older vLLM)
      JsonNode error = chunk.path("error");
      if (error.isTextual()) {
        fail(null, error.textValue());
        return;
      }
      if (!error.isObject()) {
        error = chunk;
      }
      String message = error.path("message").textValue();
      fail(error.path("type").textValue(), message == null ? chunk.toString() : message);
      return;
    }
    if (!started) {
      started = true;
      out.add(new ChatEvent.Started(chunk.path("id").textValue(), chunk.path("model").textValue()));
    }
    JsonNode choice = choiceZero(chunk.get("choices"));
    if (choice != null) {
      JsonNode delta = choice.path("delta");
      text(delta.get("content"));
      text(delta.get("refusal"));
      JsonNode calls = delta.get("tool_calls");
      if (calls != null && calls.isArray()) {
        for (int i = 0; i < calls.size(); i++) {
          JsonNode call = calls.get(i);
          toolCall(call.path("index").isIntegralNumber() ? call.get("index").intValue() : i, call.path("id"),
              call.path("function"));
        }
      }
      JsonNode legacy = delta.get("function_call");
      if (legacy != null && legacy.isObject()) {
        toolCall(0, null, legacy);
      }
      String finish = choice.path("finish_reason").textValue();
      if (finish != null && !finished) {
        finished = true;
        out.add(new ChatEvent.Finished(ChatWire.finishReason(finish)));
      }
    }
    // Groq reports a stream's usage in x_groq rather than in usage.
    Usage usage = ChatWire.usage(chunk.has("usage") ? chunk.get("usage") : chunk.path("x_groq").get("usage"));
    if (usage != null) {
      out.add(new ChatEvent.UsageReported(usage));
    }
  }

  private static boolean isError(JsonNode chunk) {
    JsonNode error = chunk.get("error");
    return (error != null && !error.isNull()) || "error".equals(chunk.path("object").textValue());
  }

  /** The choice with index 0 (a server may send the choices of n > 1 interleaved), else none. */
  private static JsonNode choiceZero(JsonNode choices) {
    if (choices == null || !choices.isArray()) {
      return null;
    }
    for (JsonNode c : choices) {
      if (c.path("index").asInt(0) == 0) {
        return c;
      }
    }
    return null;
  }

  private void text(JsonNode text) {
    if (text != null && text.isTextual() && !text.textValue().isEmpty()) {
      out.add(new ChatEvent.TextDelta(text.textValue()));
    }
  }

  private void toolCall(int index, JsonNode id, JsonNode function) {
    if (index < 0) {
      return;
    }
    if (!toolCalls.get(index)) {
      toolCalls.set(index);
      String given = id == null ? null : id.textValue();
      out.add(new ChatEvent.ToolCallStarted(index, ChatWire.callId(given), function.path("name").textValue()));
    }
    String fragment = function.path("arguments").textValue();
    if (fragment != null && !fragment.isEmpty()) {
      out.add(new ChatEvent.ToolArgumentsDelta(index, fragment));
    }
  }

  private void fail(String type, String message) {
    over = true;
    out.add(new ChatEvent.Failed(type, message));
  }
}
