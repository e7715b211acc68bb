package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a neutral request as an Anthropic Messages body. It keeps the API's invariants that the
 * neutral model does not: roles alternate (consecutive turns of one role are merged into one),
 * a user turn's tool results come before its other blocks, no turn and no text block is empty, a
 * tool always has an {@code input_schema}, and {@code tool_choice} is sent only with tools.
 */
final class RequestEncoder {
  private RequestEncoder() {}

  static AnthropicWire.Request encode(ChatRequest r, long defaultMaxTokens) {
    return new AnthropicWire.Request(r.model(), r.maxTokens() >= 0 ? r.maxTokens() : defaultMaxTokens,
        system(r.system()), messages(r.messages()), tools(r.tools()),
        r.tools().isEmpty() ? null : toolChoice(r.toolChoice()), r.temperature(), r.topP(),
        r.stop().isEmpty() ? null : r.stop(), r.stream() ? Boolean.TRUE : null);
  }

  /** One text as a string, several as text blocks (so each stays apart), none as absent. */
  private static Object system(List<Part> system) {
    List<AnthropicWire.TextBlock> texts = new ArrayList<>();
    for (Part p : system) {
      if (p instanceof Part.Text t && !t.text().isEmpty()) {
        texts.add(new AnthropicWire.TextBlock(t.text()));
      } // the system prompt carries text only
    }
    if (texts.isEmpty()) {
      return null;
    }
    return texts.size() == 1 ? texts.get(0).text() : texts;
  }

  private static List<AnthropicWire.WireMessage> messages(List<Message> messages) {
    List<AnthropicWire.WireMessage> out = new ArrayList<>();
    Message.Role role = null;
    List<AnthropicWire.Block> turn = new ArrayList<>();
    for (Message m : messages) {
      List<AnthropicWire.Block> blocks = blocks(m.content());
      if (blocks.isEmpty()) {
        continue;
      }
      if (role != null && role != m.role()) {
        out.add(turn(role, turn));
        turn = new ArrayList<>();
      }
      role = m.role();
      turn.addAll(blocks);
    }
    if (role != null) {
      out.add(turn(role, turn));
    }
    return out;
  }

  private static AnthropicWire.WireMessage turn(Message.Role role, List<AnthropicWire.Block> blocks) {
    String name = role == Message.Role.USER ? "user" : "assistant";
    if (blocks.size() == 1 && blocks.get(0) instanceof AnthropicWire.TextBlock t) {
      return new AnthropicWire.WireMessage(name, t.text());
    }
    // Anthropic refuses a user turn whose tool results do not come first; the order within each kind stays.
    List<AnthropicWire.Block> ordered = new ArrayList<>(blocks.size());
    for (AnthropicWire.Block b : blocks) {
      if (b instanceof AnthropicWire.ToolResultBlock) {
        ordered.add(b);
      }
    }
    for (AnthropicWire.Block b : blocks) {
      if (!(b instanceof AnthropicWire.ToolResultBlock)) {
        ordered.add(b);
      }
    }
    return new AnthropicWire.WireMessage(name, ordered);
  }

  private static List<AnthropicWire.Block> blocks(List<Part> parts) {
    List<AnthropicWire.Block> out = new ArrayList<>();
    for (Part p : parts) {
      if (p instanceof Part.Text t) {
        if (!t.text().isEmpty()) {
          out.add(new AnthropicWire.TextBlock(t.text()));
        }
      } else if (p instanceof Part.Image i) {
        out.add(new AnthropicWire.ImageBlock(source(i)));
      } else if (p instanceof Part.ToolCall c) {
        out.add(new AnthropicWire.ToolUseBlock(c.id(), c.name(), AnthropicCodec.toolInput(c.arguments())));
      } else if (p instanceof Part.ToolResult res) {
        out.add(new AnthropicWire.ToolResultBlock(res.callId(), res.content() == null ? "" : res.content(),
            res.error()));
      }
    }
    return out;
  }

  /**
   * An inline image as a base64 source, a URL as a url source; a {@code data:} URL (as OpenAI
   * clients send inline images) is unpacked into a base64 source, since Anthropic fetches only
   * http(s) URLs.
   */
  private static Object source(Part.Image i) {
    if (i.url() == null) {
      return new AnthropicWire.Base64Source(i.mediaType(), i.data());
    }
    String url = i.url();
    int comma = url.indexOf(',');
    if (url.regionMatches(true, 0, "data:", 0, 5) && comma > 0 && url.substring(0, comma).endsWith(";base64")) {
      return new AnthropicWire.Base64Source(url.substring(5, comma - ";base64".length()), url.substring(comma + 1));
    }
    return new AnthropicWire.UrlSource(url);
  }

  private static List<AnthropicWire.WireTool> tools(List<Tool> tools) {
    if (tools.isEmpty()) {
      return null;
    }
    List<AnthropicWire.WireTool> out = new ArrayList<>(tools.size());
    for (Tool t : tools) {
      out.add(new AnthropicWire.WireTool(t.name(), t.description(), schema(t.parameters())));
    }
    return out;
  }

  /** Anthropic requires an object schema; a tool without parameters takes no arguments. */
  private static JsonNode schema(JsonNode parameters) {
    if (parameters != null && parameters.isObject()) {
      return parameters;
    }
    ObjectNode empty = JsonNodeFactory.instance.objectNode();
    empty.put("type", "object");
    empty.putObject("properties");
    return empty;
  }

  private static AnthropicWire.WireToolChoice toolChoice(ToolChoice c) {
    if (c == null) {
      return null;
    }
    return switch (c.mode()) {
      case AUTO -> new AnthropicWire.WireToolChoice("auto", null);
      case NONE -> new AnthropicWire.WireToolChoice("none", null);
      case REQUIRED -> new AnthropicWire.WireToolChoice("any", null);
      case NAMED -> new AnthropicWire.WireToolChoice("tool", c.name());
    };
  }
}
