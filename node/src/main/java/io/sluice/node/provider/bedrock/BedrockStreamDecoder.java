package io.sluice.node.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatEvent;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Usage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;
import software.amazon.eventstream.MessageDecoder;

/**
 * A ConverseStream body ({@code application/vnd.amazon.eventstream}) as neutral events. The binary
 * frames are cut out of the bytes by the AWS event-stream library's {@link MessageDecoder}, which
 * holds a frame split across reads until it is whole and checks both of its CRCs. Each frame's
 * {@code :event-type} header names its event, and its payload is that event's JSON:
 * <ul>
 *   <li>{@code messageStart} gives Started (Converse streams carry no id and no model name);
 *   <li>{@code contentBlockStart} with {@code start.toolUse} is the next tool call (numbered from 0
 *       in the order they open, whatever their {@code contentBlockIndex});
 *   <li>{@code contentBlockDelta} with {@code delta.text} is text, with {@code delta.toolUse.input}
 *       (a string) a fragment of that block's tool arguments;
 *   <li>{@code messageStop} gives Finished with its {@code stopReason};
 *   <li>{@code metadata} gives the usage (the stream's whole usage, sent once at its end).
 * </ul>
 * {@code contentBlockStop}, reasoning deltas and event types it does not know are dropped. An
 * exception frame ({@code :message-type exception}, named by {@code :exception-type}) or an error
 * frame ({@code :message-type error}) ends the stream as Failed, and so does a frame that fails its
 * checksum or whose payload is not JSON: the rest cannot be trusted to mean what it says.
 */
final class BedrockStreamDecoder implements StreamDecoder {
  private final List<Message> frames = new ArrayList<>();
  private final MessageDecoder decoder = new MessageDecoder(frames::add);
  /** contentBlockIndex to tool-call index, for the toolUse blocks opened so far. */
  private final Map<Integer, Integer> tools = new HashMap<>();
  private int nextTool;
  private boolean failed;

  @Override
  public List<ChatEvent> decode(org.apache.pekko.util.ByteString chunk) {
    if (failed || chunk.isEmpty()) {
      return List.of();
    }
    List<ChatEvent> out = new ArrayList<>(2);
    try {
      decoder.feed(chunk.toArrayUnsafe());
    } catch (RuntimeException e) {
      // the frames decoded before the bad one still count
      drain(out);
      fail(out, "api_error", "The upstream sent an event-stream frame that could not be read.");
      return out;
    }
    drain(out);
    return out;
  }

  @Override
  public List<ChatEvent> end() {
    return List.of(); // a frame cut off by the end of the body is dropped; the stream then has no Finished
  }

  private void drain(List<ChatEvent> out) {
    for (Message m : frames) {
      if (!failed) {
        frame(m, out);
      }
    }
    frames.clear();
  }

  private void frame(Message m, List<ChatEvent> out) {
    String kind = header(m, ":message-type");
    if ("exception".equals(kind)) {
      String message = null;
      JsonNode payload = json(m);
      if (payload != null) {
        message = BedrockCodec.text(payload, "message");
        if (message == null) {
          message = BedrockCodec.text(payload, "Message");
        }
      }
      fail(out, BedrockErrors.clean(header(m, ":exception-type")), BedrockErrors.clean(message));
      return;
    }
    if ("error".equals(kind)) {
      fail(out, BedrockErrors.clean(header(m, ":error-code")), BedrockErrors.clean(header(m, ":error-message")));
      return;
    }
    String type = header(m, ":event-type");
    if (type == null) {
      return;
    }
    JsonNode d = json(m);
    if (d == null) {
      fail(out, "api_error", "The upstream sent a stream event that is not valid JSON.");
      return;
    }
    switch (type) {
      case "messageStart" -> out.add(new ChatEvent.Started(null, null));
      case "contentBlockStart" -> {
        JsonNode use = d.path("start").path("toolUse");
        if (use.isObject()) {
          int tool = nextTool++;
          tools.put(d.path("contentBlockIndex").asInt(), tool);
          out.add(new ChatEvent.ToolCallStarted(tool, BedrockCodec.text(use, "toolUseId"),
              BedrockCodec.text(use, "name")));
        }
      }
      case "contentBlockDelta" -> {
        JsonNode delta = d.path("delta");
        if (delta.has("text")) {
          String text = delta.path("text").asText("");
          if (!text.isEmpty()) {
            out.add(new ChatEvent.TextDelta(text));
          }
        } else if (delta.path("toolUse").isObject()) {
          Integer tool = tools.get(d.path("contentBlockIndex").asInt());
          String fragment = delta.path("toolUse").path("input").asText("");
          if (tool != null && !fragment.isEmpty()) {
            out.add(new ChatEvent.ToolArgumentsDelta(tool, fragment));
          }
        } // reasoningContent, citation deltas
      }
      case "messageStop" -> out.add(new ChatEvent.Finished(BedrockCodec.finishReason(
          BedrockCodec.text(d, "stopReason"))));
      case "metadata" -> {
        Usage u = BedrockCodec.usageOf(d.get("usage"));
        if (u != null) {
          out.add(new ChatEvent.UsageReported(u));
        }
      }
      default -> { } // contentBlockStop, and event types added after this was written
    }
  }

  private void fail(List<ChatEvent> out, String type, String message) {
    failed = true;
    out.add(new ChatEvent.Failed(type, message == null ? "The upstream failed mid-stream." : message));
  }

  private static String header(Message m, String name) {
    HeaderValue v = m.getHeaders().get(name);
    try {
      return v == null ? null : v.getString();
    } catch (RuntimeException notAString) {
      return null;
    }
  }

  private static JsonNode json(Message m) {
    byte[] payload = m.getPayload();
    if (payload.length == 0) {
      return com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode n = BedrockCodec.JSON.readTree(payload);
      return n != null && n.isObject() ? n : null;
    } catch (IOException e) {
      return null;
    }
  }
}
