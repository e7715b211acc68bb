package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.util.ByteString;

/**
 * Anthropic's Messages stream as neutral events. {@code message_start} gives Started and the input
 * usage; each {@code tool_use} block is the next tool call (numbered from 0 in the order the
 * blocks open, whatever their block index); text and tool-argument deltas pass on;
 * {@code message_delta} gives Finished and the usage so far (its {@code output_tokens} are
 * cumulative, and any input field it carries replaces message_start's); {@code error} gives
 * Failed. Thinking, signature and citation deltas, block stops, {@code message_stop}, {@code ping}
 * and event types it does not know are dropped. An event whose data is not JSON ends the stream
 * as Failed: the rest cannot be trusted to mean what it says.
 */
final class AnthropicStreamDecoder implements StreamDecoder {
  private final SseFrames frames = new SseFrames();
  /** Block index to tool-call index, for the tool_use blocks opened so far. */
  private final Map<Integer, Integer> tools = new HashMap<>();
  private int nextTool;
  private long input;
  private long cacheRead;
  private long cacheWrite;
  private long output;
  private boolean failed;

  @Override
  public List<ChatEvent> decode(ByteString chunk) {
    return events(frames.feed(chunk));
  }

  @Override
  public List<ChatEvent> end() {
    return events(frames.end());
  }

  private List<ChatEvent> events(List<SseFrames.Event> sse) {
    if (sse.isEmpty()) {
      return List.of();
    }
    List<ChatEvent> out = new ArrayList<>(sse.size() + 1);
    for (SseFrames.Event e : sse) {
      if (!failed) {
        event(e, out);
      }
    }
    return out;
  }

  private void event(SseFrames.Event e, List<ChatEvent> out) {
    if (e.data().isEmpty()) {
      return; // an event name alone (or a keep-alive) carries nothing
    }
    JsonNode d;
    try {
      d = AnthropicCodec.JSON.readTree(e.data());
    } catch (IOException ex) {
      d = null;
    }
    if (d == null || !d.isObject()) {
      failed = true;
      out.add(new ChatEvent.Failed("api_error", "The upstream sent a stream event that is not valid JSON."));
      return;
    }
    String type = d.path("type").asText(e.name() == null ? "" : e.name());
    switch (type) {
      case "message_start" -> {
        JsonNode m = d.path("message");
        out.add(new ChatEvent.Started(AnthropicCodec.text(m, "id"), AnthropicCodec.text(m, "model")));
        JsonNode u = m.path("usage");
        if (u.isObject()) {
          input = u.path("input_tokens").asLong(0);
          cacheWrite = u.path("cache_creation_input_tokens").asLong(0);
          cacheRead = u.path("cache_read_input_tokens").asLong(0);
          output = u.path("output_tokens").asLong(0);
          out.add(new ChatEvent.UsageReported(usage()));
        }
      }
      case "content_block_start" -> blockStart(d.path("index").asInt(), d.path("content_block"), out);
      case "content_block_delta" -> delta(d.path("index").asInt(), d.path("delta"), out);
      case "message_delta" -> {
        String stop = AnthropicCodec.text(d.path("delta"), "stop_reason");
        if (stop != null) {
          out.add(new ChatEvent.Finished(AnthropicCodec.finishReason(stop)));
        }
        JsonNode u = d.path("usage");
        if (u.isObject()) {
          input = replace(u, "input_tokens", input);
          cacheWrite = replace(u, "cache_creation_input_tokens", cacheWrite);
          cacheRead = replace(u, "cache_read_input_tokens", cacheRead);
          output = replace(u, "output_tokens", output);
          out.add(new ChatEvent.UsageReported(usage()));
        }
      }
      case "error" -> {
        failed = true;
        JsonNode err = d.path("error");
        out.add(new ChatEvent.Failed(AnthropicErrors.clean(AnthropicCodec.text(err, "type")),
            AnthropicErrors.clean(AnthropicCodec.text(err, "message"))));
      }
      default -> { } // content_block_stop, message_stop, ping, and types added after this was written
    }
  }

  private void blockStart(int index, JsonNode block, List<ChatEvent> out) {
    switch (block.path("type").asText()) {
      case "text" -> {
        String text = block.path("text").asText("");
        if (!text.isEmpty()) {
          out.add(new ChatEvent.TextDelta(text));
        }
      }
      case "tool_use" -> {
        int tool = nextTool++;
        tools.put(index, tool);
        out.add(new ChatEvent.ToolCallStarted(tool, AnthropicCodec.text(block, "id"),
            AnthropicCodec.text(block, "name")));
        JsonNode input = block.get("input");
        if (input != null && input.isObject() && !input.isEmpty()) {
          out.add(new ChatEvent.ToolArgumentsDelta(tool, AnthropicCodec.toJsonText(input)));
        }
      }
      default -> { } // thinking, redacted_thinking, server tool blocks
    }
  }

  private void delta(int index, JsonNode delta, List<ChatEvent> out) {
    switch (delta.path("type").asText()) {
      case "text_delta" -> {
        String text = delta.path("text").asText("");
        if (!text.isEmpty()) {
          out.add(new ChatEvent.TextDelta(text));
        }
      }
      case "input_json_delta" -> {
        Integer tool = tools.get(index);
        String fragment = delta.path("partial_json").asText("");
        if (tool != null && !fragment.isEmpty()) {
          out.add(new ChatEvent.ToolArgumentsDelta(tool, fragment));
        }
      }
      default -> { } // thinking_delta, signature_delta, citations_delta
    }
  }

  private static long replace(JsonNode u, String field, long current) {
    JsonNode v = u.get(field);
    return v == null || v.isNull() ? current : v.asLong(current);
  }

  private Usage usage() {
    return new Usage(input + cacheWrite + cacheRead, output, cacheRead, cacheWrite);
  }
}
