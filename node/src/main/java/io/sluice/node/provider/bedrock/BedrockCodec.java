package io.sluice.node.provider.bedrock;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.ChatResponse;
import io.sluice.node.inference.chat.FinishReason;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.StreamDecoder;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import io.sluice.node.inference.chat.Usage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Bedrock Converse protocol, one way: the neutral request into a Converse body, and a Converse
 * response, its usage and its event stream back into neutral terms. Pure functions over bytes and
 * the neutral chat model; the wire records stay private to this package. There is no client side:
 * no client speaks Converse to Sluice.
 *
 * <p>The request keeps Converse's invariants that the neutral model does not: roles alternate
 * (consecutive turns of one role are merged), a user turn's tool results come before its other
 * blocks, no turn and no text block is empty, a tool always has an object schema, and
 * {@code toolConfig} is sent only with tools. Converse has no "none" tool choice, so
 * {@code tool_choice: none} drops the tools instead. Images must be bytes: an inline image or a
 * {@code data:} URL is sent as {@code image.source.bytes}; an http(s) URL is refused, since
 * Converse cannot fetch it.
 */
final class BedrockCodec {
  /** Records in component order; characters outside the BMP as UTF-8, not escaped surrogate pairs. */
  static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
      .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build());

  private BedrockCodec() {}

  /** The neutral request as a Converse body (the model goes in the URL). */
  static byte[] encodeRequest(ChatRequest r) throws InvalidChat {
    boolean tools = !r.tools().isEmpty() && (r.toolChoice() == null || r.toolChoice().mode() != ToolChoice.Mode.NONE);
    BedrockWire.InferenceConfig config = new BedrockWire.InferenceConfig(r.maxTokens() >= 0 ? r.maxTokens() : null,
        r.temperature(), r.topP(), r.stop().isEmpty() ? null : r.stop());
    boolean noConfig = config.maxTokens() == null && config.temperature() == null && config.topP() == null
        && config.stopSequences() == null;
    return write(new BedrockWire.Request(messages(r.messages()), system(r.system()), noConfig ? null : config,
        tools ? new BedrockWire.ToolConfig(tools(r.tools()), toolChoice(r.toolChoice())) : null));
  }

  private static List<BedrockWire.SystemBlock> system(List<Part> system) {
    List<BedrockWire.SystemBlock> out = new ArrayList<>();
    for (Part p : system) {
      if (p instanceof Part.Text t && !t.text().isEmpty()) {
        out.add(new BedrockWire.SystemBlock(t.text()));
      } // the system prompt carries text only
    }
    return out.isEmpty() ? null : out;
  }

  private static List<BedrockWire.WireMessage> messages(List<Message> messages) throws InvalidChat {
    List<BedrockWire.WireMessage> out = new ArrayList<>();
    Message.Role role = null;
    List<BedrockWire.Block> turn = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      List<BedrockWire.Block> blocks = blocks(m.content(), i);
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

  /** A turn, with its tool results first (the order within each kind kept), as Claude on Bedrock requires. */
  private static BedrockWire.WireMessage turn(Message.Role role, List<BedrockWire.Block> blocks) {
    List<BedrockWire.Block> ordered = new ArrayList<>(blocks.size());
    for (BedrockWire.Block b : blocks) {
      if (b instanceof BedrockWire.ToolResultBlock) {
        ordered.add(b);
      }
    }
    for (BedrockWire.Block b : blocks) {
      if (!(b instanceof BedrockWire.ToolResultBlock)) {
        ordered.add(b);
      }
    }
    return new BedrockWire.WireMessage(role == Message.Role.USER ? "user" : "assistant", ordered);
  }

  private static List<BedrockWire.Block> blocks(List<Part> parts, int message) throws InvalidChat {
    List<BedrockWire.Block> out = new ArrayList<>();
    for (Part p : parts) {
      if (p instanceof Part.Text t) {
        if (!t.text().isEmpty()) {
          out.add(new BedrockWire.TextBlock(t.text()));
        }
      } else if (p instanceof Part.Image i) {
        out.add(new BedrockWire.ImageBlock(image(i, message)));
      } else if (p instanceof Part.ToolCall c) {
        out.add(new BedrockWire.ToolUseBlock(new BedrockWire.ToolUse(c.id(), c.name(), toolInput(c.arguments()))));
      } else if (p instanceof Part.ToolResult res) {
        String text = res.content() == null ? "" : res.content();
        out.add(new BedrockWire.ToolResultBlock(new BedrockWire.ToolResult(res.callId(),
            text.isEmpty() ? List.of() : List.of(new BedrockWire.TextBlock(text)), res.error() ? "error" : null)));
      }
    }
    return out;
  }

  /** An inline image or a base64 {@code data:} URL as Converse image bytes; anything else is refused. */
  private static BedrockWire.Image image(Part.Image i, int message) throws InvalidChat {
    String param = "messages." + message + ".content";
    String mediaType = i.mediaType();
    String data = i.data();
    if (i.url() != null) {
      String url = i.url();
      int comma = url.indexOf(',');
      if (!url.regionMatches(true, 0, "data:", 0, 5) || comma < 0
          || !url.substring(0, comma).toLowerCase(Locale.ROOT).endsWith(";base64")) {
        throw new InvalidChat("The model's deployment is AWS Bedrock's, whose Converse API takes images as bytes "
            + "only: send the image inline as a base64 data: URL, not by URL.", param);
      }
      mediaType = url.substring(5, comma - ";base64".length());
      data = url.substring(comma + 1);
    }
    String format = switch (mediaType == null ? "" : mediaType.toLowerCase(Locale.ROOT)) {
      case "image/png" -> "png";
      case "image/jpeg", "image/jpg" -> "jpeg";
      case "image/gif" -> "gif";
      case "image/webp" -> "webp";
      default -> throw new InvalidChat("AWS Bedrock takes png, jpeg, gif and webp images, not '" + mediaType + "'.",
          param);
    };
    return new BedrockWire.Image(format, new BedrockWire.ImageSource(data));
  }

  private static List<BedrockWire.WireTool> tools(List<Tool> tools) {
    List<BedrockWire.WireTool> out = new ArrayList<>(tools.size());
    for (Tool t : tools) {
      out.add(new BedrockWire.WireTool(new BedrockWire.ToolSpec(t.name(), t.description(),
          new BedrockWire.InputSchema(schema(t.parameters())))));
    }
    return out;
  }

  /** Converse requires an object schema; a tool without parameters takes no arguments. */
  private static JsonNode schema(JsonNode parameters) {
    if (parameters != null && parameters.isObject()) {
      return parameters;
    }
    ObjectNode empty = JsonNodeFactory.instance.objectNode();
    empty.put("type", "object");
    empty.putObject("properties");
    return empty;
  }

  /** Null (the model decides) when the client named none; NONE never gets here (the tools are dropped). */
  private static Map<String, Object> toolChoice(ToolChoice c) {
    if (c == null) {
      return null;
    }
    return switch (c.mode()) {
      case AUTO, NONE -> Map.of("auto", Map.of());
      case REQUIRED -> Map.of("any", Map.of());
      case NAMED -> Map.of("tool", new BedrockWire.NamedTool(c.name()));
    };
  }

  /** A Converse response in neutral form. Converse answers carry no id and no model name. */
  static ChatResponse decodeResponse(byte[] body) throws InvalidChat {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      throw new InvalidChat("The upstream response is not valid JSON.", null);
    }
    JsonNode content = root == null ? null : root.path("output").path("message").path("content");
    if (content == null || !content.isArray()) {
      throw new InvalidChat("The upstream response is not a Bedrock Converse answer.", "output");
    }
    List<Part> parts = new ArrayList<>();
    for (JsonNode block : content) {
      if (block.has("text")) {
        parts.add(new Part.Text(block.path("text").asText()));
      } else if (block.path("toolUse").isObject()) {
        JsonNode use = block.get("toolUse");
        parts.add(new Part.ToolCall(text(use, "toolUseId"), text(use, "name"), toJsonText(use.get("input"))));
      } // reasoningContent, citations, guardContent and other blocks have no neutral form
    }
    return new ChatResponse(null, null, parts, finishReason(text(root, "stopReason")), usageOf(root.get("usage")));
  }

  /** The usage of a whole Converse response, or null when it carries none. */
  static Usage usage(byte[] body) {
    try {
      JsonNode root = JSON.readTree(body);
      return root == null ? null : usageOf(root.get("usage"));
    } catch (IOException e) {
      return null;
    }
  }

  /** A decoder of a ConverseStream body (event-stream frames) into neutral events; one per stream. */
  static StreamDecoder streamDecoder() {
    return new BedrockStreamDecoder();
  }

  /**
   * Converse's stop reason in neutral terms; an unknown one (a newer API's) reads as a natural stop.
   */
  static FinishReason finishReason(String stopReason) {
    if (stopReason == null) {
      return null;
    }
    return switch (stopReason) {
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "guardrail_intervened", "content_filtered" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.STOP; // end_turn, stop_sequence
    };
  }

  /**
   * Converse's usage in neutral terms: {@code inputTokens} leaves out the cached tokens, so the
   * prompt is input plus cache reads plus cache writes. Null when the node carries no token count.
   */
  static Usage usageOf(JsonNode u) {
    if (u == null || !u.isObject() || (!u.has("inputTokens") && !u.has("outputTokens"))) {
      return null;
    }
    long input = u.path("inputTokens").asLong(0);
    long read = u.path("cacheReadInputTokens").asLong(0);
    long write = u.path("cacheWriteInputTokens").asLong(0);
    return new Usage(input + read + write, u.path("outputTokens").asLong(0), read, write);
  }

  /** A tool call's JSON text as a Converse {@code input} object; anything but an object reads as {}. */
  static JsonNode toolInput(String arguments) {
    if (arguments == null || arguments.isBlank()) {
      return JsonNodeFactory.instance.objectNode();
    }
    try {
      JsonNode n = JSON.readTree(arguments);
      return n != null && n.isObject() ? n : JsonNodeFactory.instance.objectNode();
    } catch (IOException e) {
      return JsonNodeFactory.instance.objectNode();
    }
  }

  static String toJsonText(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      return "{}";
    }
    try {
      return JSON.writeValueAsString(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed tree always serialises", e);
    }
  }

  static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  static byte[] write(Object value) {
    try {
      return JSON.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the wire records always serialise", e);
    }
  }
}
