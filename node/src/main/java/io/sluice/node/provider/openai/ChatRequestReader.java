package io.sluice.node.provider.openai;

import static io.sluice.node.provider.openai.JsonFields.bool;
import static io.sluice.node.provider.openai.JsonFields.count;
import static io.sluice.node.provider.openai.JsonFields.number;
import static io.sluice.node.provider.openai.JsonFields.partType;
import static io.sluice.node.provider.openai.JsonFields.present;
import static io.sluice.node.provider.openai.JsonFields.required;
import static io.sluice.node.provider.openai.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an OpenAI chat completions request into the neutral model. Every field it reads is
 * checked, and a malformed one is refused with its path ({@code messages.2.content.0.type}); the
 * fields the neutral model has no place for (seed, response_format, logprobs, user, ...) are not
 * read. Tool messages open a USER turn that later tool messages and the next user message join,
 * because the neutral model keeps tool results as parts of a user turn.
 */
final class ChatRequestReader {
  private ChatRequestReader() {}

  static ChatRequest read(byte[] body) throws InvalidChat {
    JsonNode root = ChatWire.parse(body);
    for (String legacy : new String[] {"functions", "function_call"}) {
      if (present(root.get(legacy))) {
        throw new InvalidChat("'" + legacy + "' (legacy function calling) is not supported; use 'tools' and "
            + "'tool_choice'.", legacy);
      }
    }
    JsonNode n = root.get("n");
    if (present(n) && !(n.canConvertToExactIntegral() && n.asLong() == 1)) {
      throw new InvalidChat("Only one choice ('n': 1) can be translated.", "n");
    }
    String model = text(root.get("model"), "model");
    if (model == null) {
      throw new InvalidChat("'model' is required.", "model");
    }
    List<Part> system = new ArrayList<>();
    List<Message> messages = messages(root.get("messages"), system);
    boolean stream = bool(root.get("stream"), "stream");
    JsonNode options = root.get("stream_options");
    boolean includeUsage = false;
    if (present(options)) {
      if (!options.isObject()) {
        throw new InvalidChat("'stream_options' must be an object.", "stream_options");
      }
      includeUsage = stream && bool(options.get("include_usage"), "stream_options.include_usage");
    }
    long maxTokens = present(root.get("max_completion_tokens"))
        ? count(root.get("max_completion_tokens"), "max_completion_tokens")
        : present(root.get("max_tokens")) ? count(root.get("max_tokens"), "max_tokens") : -1;
    return new ChatRequest(model, system, messages, ToolsReader.tools(root.get("tools")),
        ToolsReader.toolChoice(root.get("tool_choice")),
        maxTokens, number(root.get("temperature"), "temperature"), number(root.get("top_p"), "top_p"),
        stop(root.get("stop")), stream, includeUsage);
  }

  private static List<Message> messages(JsonNode messages, List<Part> system) throws InvalidChat {
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw new InvalidChat("'messages' must be a non-empty array.", "messages");
    }
    List<Message> turns = new ArrayList<>();
    List<Part> toolTurn = null; // the USER turn that tool messages opened; the next user message closes it
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String path = "messages." + i;
      if (!m.isObject()) {
        throw new InvalidChat("Each message must be an object.", path);
      }
      String role = text(m.get("role"), path + ".role");
      if (role == null) {
        throw new InvalidChat("'role' is required.", path + ".role");
      }
      switch (role) {
        case "system", "developer" -> system.addAll(texts(required(m, "content", path), path + ".content"));
        case "user" -> {
          List<Part> parts = userContent(required(m, "content", path), path + ".content");
          if (toolTurn == null) {
            turns.add(new Message(Message.Role.USER, parts));
          } else {
            toolTurn.addAll(parts);
            turns.add(new Message(Message.Role.USER, toolTurn));
            toolTurn = null;
          }
        }
        case "assistant" -> {
          if (toolTurn != null) {
            turns.add(new Message(Message.Role.USER, toolTurn));
            toolTurn = null;
          }
          List<Part> said = assistant(m, path);
          // A turn without text or tool calls (content null, "" or []) is one empty text, which is
          // how it is written back (OpenAI requires its content): so it reads the same each time.
          turns.add(new Message(Message.Role.ASSISTANT, said.isEmpty() ? List.of(new Part.Text("")) : said));
        }
        case "tool" -> {
          if (toolTurn == null) {
            toolTurn = new ArrayList<>();
          }
          toolTurn.add(toolResult(m, path));
        }
        case "function" -> throw new InvalidChat(
            "Role 'function' (legacy function calling) is not supported; use role 'tool'.", path + ".role");
        default -> throw new InvalidChat("Unknown role '" + role + "'.", path + ".role");
      }
    }
    if (toolTurn != null) {
      turns.add(new Message(Message.Role.USER, toolTurn));
    }
    return turns;
  }

  private static List<Part> assistant(JsonNode m, String path) throws InvalidChat {
    if (present(m.get("function_call"))) {
      throw new InvalidChat("'function_call' (legacy function calling) is not supported; use 'tool_calls'.",
          path + ".function_call");
    }
    List<Part> parts = new ArrayList<>();
    JsonNode content = m.get("content");
    if (present(content)) {
      parts.addAll(texts(content, path + ".content", true));
    }
    JsonNode calls = m.get("tool_calls");
    if (!present(calls)) {
      return parts;
    }
    if (!calls.isArray()) {
      throw new InvalidChat("'tool_calls' must be an array.", path + ".tool_calls");
    }
    for (int j = 0; j < calls.size(); j++) {
      JsonNode call = calls.get(j);
      String at = path + ".tool_calls." + j;
      if (!call.isObject()) {
        throw new InvalidChat("Each tool call must be an object.", at);
      }
      String type = text(call.get("type"), at + ".type");
      if (type != null && !type.equals("function")) {
        throw new InvalidChat("Tool call type '" + type + "' cannot be translated; only 'function'.", at + ".type");
      }
      String id = text(call.get("id"), at + ".id");
      if (id == null) {
        throw new InvalidChat("'id' is required.", at + ".id");
      }
      JsonNode function = call.get("function");
      if (function == null || !function.isObject()) {
        throw new InvalidChat("'function' must be an object.", at + ".function");
      }
      String name = text(function.get("name"), at + ".function.name");
      if (name == null) {
        throw new InvalidChat("'name' is required.", at + ".function.name");
      }
      String arguments = text(function.get("arguments"), at + ".function.arguments");
      parts.add(new Part.ToolCall(id, name, arguments == null ? "{}" : arguments));
    }
    return parts;
  }

  private static Part toolResult(JsonNode m, String path) throws InvalidChat {
    String callId = text(m.get("tool_call_id"), path + ".tool_call_id");
    if (callId == null) {
      throw new InvalidChat("'tool_call_id' is required.", path + ".tool_call_id");
    }
    StringBuilder content = new StringBuilder();
    for (Part p : texts(required(m, "content", path), path + ".content")) {
      content.append(((Part.Text) p).text());
    }
    return new Part.ToolResult(callId, null, content.toString(), false);
  }

  /** A string, or an array of text parts, as Text parts. */
  private static List<Part> texts(JsonNode content, String path) throws InvalidChat {
    return texts(content, path, false);
  }

  /** @param refusals an assistant's content, which may hold refusal parts too (read as text) */
  private static List<Part> texts(JsonNode content, String path, boolean refusals) throws InvalidChat {
    if (content.isTextual()) {
      return List.of(new Part.Text(content.textValue()));
    }
    if (!content.isArray()) {
      throw new InvalidChat("'content' must be a string or an array of text parts.", path);
    }
    List<Part> parts = new ArrayList<>(content.size());
    for (int j = 0; j < content.size(); j++) {
      String at = path + "." + j;
      String type = partType(content.get(j), at);
      if (!type.equals("text") && !(refusals && type.equals("refusal"))) {
        throw new InvalidChat("Content part type '" + type + "' is not allowed here; only 'text'.", at + ".type");
      }
      String text = text(content.get(j).get(type), at + "." + type);
      if (text == null) {
        throw new InvalidChat("'" + type + "' is required.", at + "." + type);
      }
      parts.add(new Part.Text(text));
    }
    return parts;
  }

  private static List<Part> userContent(JsonNode content, String path) throws InvalidChat {
    if (!content.isArray()) {
      return texts(content, path);
    }
    List<Part> parts = new ArrayList<>(content.size());
    for (int j = 0; j < content.size(); j++) {
      JsonNode part = content.get(j);
      String at = path + "." + j;
      String type = partType(part, at);
      switch (type) {
        case "text" -> {
          String text = text(part.get("text"), at + ".text");
          if (text == null) {
            throw new InvalidChat("'text' is required.", at + ".text");
          }
          parts.add(new Part.Text(text));
        }
        case "image_url" -> parts.add(image(part.get("image_url"), at + ".image_url"));
        default -> throw new InvalidChat("Content part type '" + type + "' cannot be translated; only 'text' and "
            + "'image_url'.", at + ".type");
      }
    }
    return parts;
  }

  private static Part.Image image(JsonNode image, String path) throws InvalidChat {
    JsonNode urlNode = image != null && image.isObject() ? image.get("url") : image;
    String url = urlNode == null ? null : text(urlNode, path + ".url");
    if (url == null || url.isEmpty()) {
      throw new InvalidChat("'image_url.url' is required.", path + ".url");
    }
    if (!url.regionMatches(true, 0, "data:", 0, 5)) {
      return Part.Image.ofUrl(url);
    }
    // data:<media type>[;<parameter>...];base64,<data>
    int comma = url.indexOf(',');
    String header = comma < 0 ? "" : url.substring(5, comma);
    int semi = header.indexOf(';');
    String mediaType = semi < 0 ? header : header.substring(0, semi);
    if (comma < 0 || !header.regionMatches(true, header.length() - 7, ";base64", 0, 7) || mediaType.isEmpty()
        || comma == url.length() - 1) {
      throw new InvalidChat("An image data URL must be 'data:<media type>;base64,<data>'.", path + ".url");
    }
    return Part.Image.inline(mediaType, url.substring(comma + 1));
  }

  private static List<String> stop(JsonNode stop) throws InvalidChat {
    if (!present(stop)) {
      return List.of();
    }
    if (stop.isTextual()) {
      return List.of(stop.textValue());
    }
    if (!stop.isArray()) {
      throw new InvalidChat("'stop' must be a string or an array of strings.", "stop");
    }
    List<String> out = new ArrayList<>(stop.size());
    for (int i = 0; i < stop.size(); i++) {
      if (!stop.get(i).isTextual()) {
        throw new InvalidChat("Each stop sequence must be a string.", "stop." + i);
      }
      out.add(stop.get(i).textValue());
    }
    return out;
  }
}
