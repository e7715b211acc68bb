package io.sluice.node.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a client's Anthropic Messages request (a parsed tree) into the neutral model. Every
 * refusal names the offending field by its path ({@code messages.1.content.0.source}) and uses
 * Anthropic's wording ({@code max_tokens: Field required}), so the surface can answer the 400 as
 * Anthropic would. Fields with no neutral meaning (metadata, top_k, thinking, cache_control,
 * disable_parallel_tool_use) are ignored; thinking blocks in earlier turns, empty text and turns
 * left with nothing are dropped, as the encoder drops them: Anthropic has no empty block or turn.
 */
final class RequestDecoder {
  /** Far above any model's output limit; the same bound the OpenAI scan applies. */
  static final long MAX_TOKENS = 100_000_000L;

  private RequestDecoder() {}

  static ChatRequest decode(JsonNode root) throws InvalidChat {
    if (root == null || !root.isObject()) {
      throw new InvalidChat("The request body must be a JSON object.", null);
    }
    JsonNode model = root.get("model");
    if (model == null || model.isNull()) {
      throw required("model");
    }
    if (!model.isTextual() || model.asText().isEmpty()) {
      throw new InvalidChat("model: Input should be a valid string", "model");
    }
    long maxTokens = maxTokens(root.get("max_tokens"));
    List<Part> system = system(root.get("system"));
    JsonNode messagesNode = root.get("messages");
    if (messagesNode == null || messagesNode.isNull()) {
      throw required("messages");
    }
    if (!messagesNode.isArray()) {
      throw new InvalidChat("messages: Input should be a valid list", "messages");
    }
    List<Message> messages = new ArrayList<>();
    for (int i = 0; i < messagesNode.size(); i++) {
      Message m = message(messagesNode.get(i), "messages." + i);
      if (!m.content().isEmpty()) {
        messages.add(m);
      }
    }
    List<Tool> tools = tools(root.get("tools"));
    ToolChoice choice = toolChoice(root.get("tool_choice"));
    Double temperature = number(root.get("temperature"), "temperature");
    Double topP = number(root.get("top_p"), "top_p");
    List<String> stop = strings(root.get("stop_sequences"), "stop_sequences");
    boolean stream = bool(root.get("stream"), "stream");
    // An Anthropic stream always reports its usage, so the client is taken to want it.
    return new ChatRequest(model.asText(), system, messages, tools, choice, maxTokens, temperature, topP, stop,
        stream, stream);
  }

  static InvalidChat required(String field) {
    return new InvalidChat(field + ": Field required", field);
  }

  static long maxTokens(JsonNode v) throws InvalidChat {
    if (v == null || v.isNull()) {
      throw required("max_tokens");
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new InvalidChat("max_tokens: Input should be a valid integer", "max_tokens");
    }
    long n = v.asLong();
    if (n < 1 || n > MAX_TOKENS) {
      throw new InvalidChat("max_tokens: Input should be an integer from 1 to " + MAX_TOKENS, "max_tokens");
    }
    return n;
  }

  private static List<Part> system(JsonNode v) throws InvalidChat {
    List<Part> parts = new ArrayList<>();
    if (v == null || v.isNull()) {
      return parts;
    }
    if (v.isTextual()) {
      if (!v.asText().isEmpty()) {
        parts.add(new Part.Text(v.asText()));
      }
      return parts;
    }
    if (!v.isArray()) {
      throw new InvalidChat("system: Input should be a valid string or a list of text blocks", "system");
    }
    for (int i = 0; i < v.size(); i++) {
      JsonNode b = v.get(i);
      String path = "system." + i;
      if (!b.isObject() || !"text".equals(b.path("type").asText())) {
        throw new InvalidChat(path + ".type: Input should be 'text'", path + ".type");
      }
      parts.add(new Part.Text(string(b.get("text"), path + ".text")));
    }
    return parts;
  }

  private static Message message(JsonNode m, String path) throws InvalidChat {
    if (!m.isObject()) {
      throw new InvalidChat(path + ": Input should be a valid dictionary", path);
    }
    JsonNode roleNode = m.get("role");
    Message.Role role;
    if (roleNode == null || roleNode.isNull()) {
      throw required(path + ".role");
    }
    switch (roleNode.asText()) {
      case "user" -> role = Message.Role.USER;
      case "assistant" -> role = Message.Role.ASSISTANT;
      default -> throw new InvalidChat(path + ".role: Input should be 'user' or 'assistant'", path + ".role");
    }
    JsonNode content = m.get("content");
    if (content == null || content.isNull()) {
      throw required(path + ".content");
    }
    List<Part> parts = new ArrayList<>();
    if (content.isTextual()) {
      if (!content.asText().isEmpty()) {
        parts.add(new Part.Text(content.asText()));
      }
    } else if (content.isArray()) {
      for (int i = 0; i < content.size(); i++) {
        Part p = block(content.get(i), role, path + ".content." + i);
        if (p != null) {
          parts.add(p);
        }
      }
    } else {
      throw new InvalidChat(path + ".content: Input should be a valid string or a list of content blocks",
          path + ".content");
    }
    return new Message(role, parts);
  }

  /** One content block; null for one that is dropped: no neutral form (thinking) or nothing in it (empty text). */
  private static Part block(JsonNode b, Message.Role role, String path) throws InvalidChat {
    if (!b.isObject()) {
      throw new InvalidChat(path + ": Input should be a valid dictionary", path);
    }
    String type = b.path("type").asText();
    switch (type) {
      case "text":
        String text = string(b.get("text"), path + ".text");
        return text.isEmpty() ? null : new Part.Text(text);
      case "image":
        return image(b.get("source"), path + ".source");
      case "tool_use":
        if (role != Message.Role.ASSISTANT) {
          throw new InvalidChat(path + ": tool_use blocks are only allowed in assistant turns", path + ".type");
        }
        JsonNode input = b.get("input");
        if (input != null && !input.isNull() && !input.isObject()) {
          throw new InvalidChat(path + ".input: Input should be a valid dictionary", path + ".input");
        }
        return new Part.ToolCall(string(b.get("id"), path + ".id"), string(b.get("name"), path + ".name"),
            AnthropicCodec.toJsonText(input));
      case "tool_result":
        if (role != Message.Role.USER) {
          throw new InvalidChat(path + ": tool_result blocks are only allowed in user turns", path + ".type");
        }
        return new Part.ToolResult(string(b.get("tool_use_id"), path + ".tool_use_id"), null,
            toolResultContent(b.get("content"), path + ".content"), bool(b.get("is_error"), path + ".is_error"));
      case "thinking", "redacted_thinking":
        return null; // the model's earlier reasoning; only Anthropic itself can read it back
      default:
        throw new InvalidChat(path + ".type: content blocks of type '" + type + "' cannot be translated for this"
            + " model's deployment", path + ".type");
    }
  }

  private static Part image(JsonNode source, String path) throws InvalidChat {
    if (source == null || !source.isObject()) {
      throw required(path);
    }
    return switch (source.path("type").asText()) {
      case "base64" -> Part.Image.inline(string(source.get("media_type"), path + ".media_type"),
          string(source.get("data"), path + ".data"));
      case "url" -> Part.Image.ofUrl(string(source.get("url"), path + ".url"));
      default -> throw new InvalidChat(path + ".type: Input should be 'base64' or 'url'", path + ".type");
    };
  }

  /** A tool result's content: a string, or text blocks joined (other blocks cannot be carried as text). */
  private static String toolResultContent(JsonNode v, String path) throws InvalidChat {
    if (v == null || v.isNull()) {
      return "";
    }
    if (v.isTextual()) {
      return v.asText();
    }
    if (!v.isArray()) {
      throw new InvalidChat(path + ": Input should be a valid string or a list of content blocks", path);
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < v.size(); i++) {
      JsonNode block = v.get(i);
      if (!block.isObject() || !"text".equals(block.path("type").asText())) {
        throw new InvalidChat(path + "." + i + ".type: only text can be carried in a tool result for this"
            + " model's deployment", path + "." + i + ".type");
      }
      if (b.length() > 0) {
        b.append('\n');
      }
      b.append(string(block.get("text"), path + "." + i + ".text"));
    }
    return b.toString();
  }

  private static List<Tool> tools(JsonNode v) throws InvalidChat {
    List<Tool> tools = new ArrayList<>();
    if (v == null || v.isNull()) {
      return tools;
    }
    if (!v.isArray()) {
      throw new InvalidChat("tools: Input should be a valid list", "tools");
    }
    for (int i = 0; i < v.size(); i++) {
      JsonNode t = v.get(i);
      String path = "tools." + i;
      if (!t.isObject()) {
        throw new InvalidChat(path + ": Input should be a valid dictionary", path);
      }
      String type = t.path("type").asText("custom");
      if (!type.equals("custom")) {
        throw new InvalidChat(path + ".type: tools of type '" + type + "' cannot be translated for this model's"
            + " deployment", path + ".type");
      }
      JsonNode schema = t.get("input_schema");
      if (schema == null || schema.isNull()) {
        throw required(path + ".input_schema");
      }
      if (!schema.isObject()) {
        throw new InvalidChat(path + ".input_schema: Input should be a valid dictionary", path + ".input_schema");
      }
      JsonNode description = t.get("description");
      tools.add(new Tool(string(t.get("name"), path + ".name"),
          description == null || description.isNull() ? null : string(description, path + ".description"), schema));
    }
    return tools;
  }

  private static ToolChoice toolChoice(JsonNode v) throws InvalidChat {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isObject()) {
      throw new InvalidChat("tool_choice: Input should be a valid dictionary", "tool_choice");
    }
    return switch (v.path("type").asText()) {
      case "auto" -> ToolChoice.AUTO;
      case "any" -> ToolChoice.REQUIRED;
      case "none" -> ToolChoice.NONE;
      case "tool" -> ToolChoice.named(string(v.get("name"), "tool_choice.name"));
      default -> throw new InvalidChat("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'",
          "tool_choice.type");
    };
  }

  private static String string(JsonNode v, String path) throws InvalidChat {
    if (v == null || v.isNull()) {
      throw required(path);
    }
    if (!v.isTextual()) {
      throw new InvalidChat(path + ": Input should be a valid string", path);
    }
    return v.asText();
  }

  private static Double number(JsonNode v, String path) throws InvalidChat {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InvalidChat(path + ": Input should be a valid number", path);
    }
    return v.asDouble();
  }

  private static boolean bool(JsonNode v, String path) throws InvalidChat {
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw new InvalidChat(path + ": Input should be a valid boolean", path);
    }
    return v.asBoolean();
  }

  private static List<String> strings(JsonNode v, String path) throws InvalidChat {
    List<String> out = new ArrayList<>();
    if (v == null || v.isNull()) {
      return out;
    }
    if (!v.isArray()) {
      throw new InvalidChat(path + ": Input should be a valid list", path);
    }
    for (int i = 0; i < v.size(); i++) {
      out.add(string(v.get(i), path + "." + i));
    }
    return out;
  }
}
