package io.sluice.node.surface.responses;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.TokenCounter;
import io.sluice.node.inference.chat.ChatRequest;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Message;
import io.sluice.node.inference.chat.Part;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Responses API request in neutral terms, for a deployment that does not speak the Responses
 * API. {@code input} (a string, or items: messages with {@code input_text}, {@code input_image}
 * and {@code output_text} parts, {@code function_call} and {@code function_call_output} items)
 * becomes the conversation; {@code instructions} and system or developer messages become the
 * system text; {@code tools} of type function, {@code tool_choice}, {@code max_output_tokens},
 * {@code temperature} and {@code top_p} map one to one. Consecutive items of one author form one
 * turn, so a call and its output stay adjacent as Anthropic requires. Reasoning items (opaque to
 * any other provider) are dropped; hosted tools, files, structured output and item references
 * have no neutral form and are refused with the field that holds them.
 */
final class ResponsesRequest {
  private ResponsesRequest() {}

  static ChatRequest decode(JsonNode root, String model, boolean stream, long maxOutputTokens) throws InvalidChat {
    List<Part> system = new ArrayList<>();
    JsonNode instructions = root.path("instructions");
    if (instructions.isTextual() && !instructions.asText().isEmpty()) {
      system.add(new Part.Text(instructions.asText()));
    } else if (!instructions.isMissingNode() && !instructions.isNull() && !instructions.isTextual()) {
      throw new InvalidChat("'instructions' must be a string.", "instructions");
    }
    Turns turns = new Turns();
    JsonNode input = root.path("input");
    if (input.isTextual()) {
      turns.add(Message.Role.USER, new Part.Text(input.asText()));
    } else if (input.isArray()) {
      Map<String, String> callNames = new HashMap<>();
      for (int i = 0; i < input.size(); i++) {
        item(input.get(i), "input." + i, system, turns, callNames);
      }
    } else if (input.isMissingNode() || input.isNull()) {
      throw new InvalidChat("Missing required parameter: 'input'.", "input");
    } else {
      throw new InvalidChat("'input' must be a string or an array of items.", "input");
    }
    if (turns.messages.isEmpty()) {
      throw new InvalidChat("'input' holds no message to answer.", "input");
    }
    checkTextFormat(root.path("text"));
    return new ChatRequest(model, system, turns.messages, tools(root.path("tools")), toolChoice(root.path("tool_choice")),
        maxOutputTokens, number(root, "temperature"), number(root, "top_p"), List.of(), stream, true);
  }

  /** Turns built from items: a part by the author of the last turn joins that turn. */
  private static final class Turns {
    final List<Message> messages = new ArrayList<>();
    private Message.Role role;
    private List<Part> parts;

    void add(Message.Role r, Part part) {
      if (r != role) {
        role = r;
        parts = new ArrayList<>();
        messages.add(null);
      }
      parts.add(part);
      // The last turn is rebuilt with each part it gains (a Message copies its parts).
      messages.set(messages.size() - 1, new Message(role, parts));
    }
  }

  private static void item(JsonNode item, String at, List<Part> system, Turns turns, Map<String, String> callNames)
      throws InvalidChat {
    if (!item.isObject()) {
      throw new InvalidChat("Each input item must be an object.", at);
    }
    String type = item.path("type").asText("message");
    switch (type) {
      case "message" -> message(item, at, system, turns);
      case "function_call" -> {
        String callId = text(item, "call_id", at);
        String name = text(item, "name", at);
        JsonNode args = item.path("arguments");
        callNames.put(callId, name);
        turns.add(Message.Role.ASSISTANT, new Part.ToolCall(callId, name, args.isTextual() ? args.asText() : "{}"));
      }
      case "function_call_output" -> {
        String callId = text(item, "call_id", at);
        turns.add(Message.Role.USER, new Part.ToolResult(callId, callNames.get(callId),
            outputText(item.path("output"), at + ".output"), false));
      }
      case "reasoning" -> {
        // Opaque to every other provider (encrypted or summarised reasoning): dropped.
      }
      case "item_reference" -> throw new InvalidChat("'item_reference' input items refer to stored items, which only"
          + " OpenAI's Responses API keeps; the model is served by a deployment that does not.", at);
      default -> throw new InvalidChat("Input items of type '" + type + "' are OpenAI's hosted tools and cannot be"
          + " translated for the model's deployment.", at + ".type");
    }
  }

  private static void message(JsonNode item, String at, List<Part> system, Turns turns) throws InvalidChat {
    String role = item.path("role").asText("");
    JsonNode content = item.path("content");
    Message.Role r = switch (role) {
      case "user" -> Message.Role.USER;
      case "assistant" -> Message.Role.ASSISTANT;
      case "system", "developer" -> null;
      default -> throw new InvalidChat("The role of a message item must be user, assistant, system or developer.",
          at + ".role");
    };
    List<Part> parts = new ArrayList<>();
    if (content.isTextual()) {
      parts.add(new Part.Text(content.asText()));
    } else if (content.isArray()) {
      for (int j = 0; j < content.size(); j++) {
        parts.add(part(content.get(j), at + ".content." + j));
      }
    } else {
      throw new InvalidChat("A message item's 'content' must be a string or an array of parts.", at + ".content");
    }
    for (Part p : parts) {
      if (r == null) {
        if (!(p instanceof Part.Text)) {
          throw new InvalidChat("A " + role + " message may hold only text.", at + ".content");
        }
        system.add(p);
      } else {
        turns.add(r, p);
      }
    }
  }

  private static Part part(JsonNode part, String at) throws InvalidChat {
    String type = part.path("type").asText("");
    return switch (type) {
      case "input_text", "output_text", "text" -> new Part.Text(text(part, "text", at));
      case "refusal" -> new Part.Text(text(part, "refusal", at));
      case "input_image" -> {
        JsonNode url = part.path("image_url");
        if (!url.isTextual()) {
          throw new InvalidChat("Only images given by 'image_url' can be translated for the model's deployment"
              + " (a 'file_id' refers to a file stored at OpenAI).", at);
        }
        yield image(url.asText(), at);
      }
      default -> throw new InvalidChat("Content parts of type '" + type + "' cannot be translated for the model's"
          + " deployment.", at + ".type");
    };
  }

  /** A data URL becomes an inline image (its media type and base64 data), any other URL stays a URL. */
  static Part.Image image(String url, String at) throws InvalidChat {
    if (!url.startsWith("data:")) {
      return Part.Image.ofUrl(url);
    }
    int comma = url.indexOf(',');
    int semi = url.indexOf(";base64");
    if (comma < 0 || semi < 0 || semi > comma) {
      throw new InvalidChat("An image data URL must be data:<media type>;base64,<data>.", at + ".image_url");
    }
    return Part.Image.inline(url.substring(5, semi), url.substring(comma + 1));
  }

  private static String outputText(JsonNode output, String at) throws InvalidChat {
    if (output.isTextual()) {
      return output.asText();
    }
    if (output.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < output.size(); i++) {
        JsonNode p = output.get(i);
        if (!p.path("type").asText("").equals("input_text")) {
          throw new InvalidChat("Only text outputs of a function call can be translated for the model's deployment.",
              at + "." + i);
        }
        sb.append(p.path("text").asText(""));
      }
      return sb.toString();
    }
    throw new InvalidChat("A function call's 'output' must be a string or an array of parts.", at);
  }

  private static List<Tool> tools(JsonNode tools) throws InvalidChat {
    if (tools.isMissingNode() || tools.isNull()) {
      return List.of();
    }
    if (!tools.isArray()) {
      throw new InvalidChat("'tools' must be an array.", "tools");
    }
    List<Tool> out = new ArrayList<>(tools.size());
    for (int i = 0; i < tools.size(); i++) {
      JsonNode t = tools.get(i);
      String type = t.path("type").asText("");
      if (!type.equals("function")) {
        throw new InvalidChat("Tools of type '" + type + "' are OpenAI's hosted tools; only function tools can be"
            + " translated for the model's deployment.", "tools." + i + ".type");
      }
      JsonNode description = t.path("description");
      JsonNode parameters = t.path("parameters");
      out.add(new Tool(text(t, "name", "tools." + i), description.isTextual() ? description.asText() : null,
          parameters.isObject() ? parameters : null));
    }
    return out;
  }

  private static ToolChoice toolChoice(JsonNode choice) throws InvalidChat {
    if (choice.isMissingNode() || choice.isNull()) {
      return null;
    }
    if (choice.isTextual()) {
      return switch (choice.asText()) {
        case "auto" -> ToolChoice.AUTO;
        case "none" -> ToolChoice.NONE;
        case "required" -> ToolChoice.REQUIRED;
        default -> throw new InvalidChat("'tool_choice' must be auto, none, required or a function.", "tool_choice");
      };
    }
    if (choice.path("type").asText("").equals("function") && choice.path("name").isTextual()) {
      return ToolChoice.named(choice.path("name").asText());
    }
    throw new InvalidChat("Only the tool choices auto, none, required and {\"type\":\"function\",\"name\"} can be"
        + " translated for the model's deployment.", "tool_choice");
  }

  private static void checkTextFormat(JsonNode text) throws InvalidChat {
    JsonNode format = text.path("format");
    if (!format.isMissingNode() && !format.isNull() && !format.path("type").asText("").equals("text")) {
      throw new InvalidChat("Structured output ('text.format' of type '" + format.path("type").asText("")
          + "') cannot be translated for the model's deployment.", "text.format");
    }
  }

  private static Double number(JsonNode root, String field) throws InvalidChat {
    JsonNode n = root.path(field);
    if (n.isMissingNode() || n.isNull()) {
      return null;
    }
    if (!n.isNumber()) {
      throw new InvalidChat("'" + field + "' must be a number.", field);
    }
    return n.asDouble();
  }

  private static String text(JsonNode node, String field, String at) throws InvalidChat {
    JsonNode n = node.path(field);
    if (!n.isTextual()) {
      throw new InvalidChat("'" + field + "' must be a string.", at + "." + field);
    }
    return n.asText();
  }

  /**
   * The prompt's tokens as {@code tokens} counts them: instructions, every text, call arguments
   * and outputs, and tool definitions, plus OpenAI's 3 tokens of framing per item and 3 of reply
   * priming. An estimate for admission; the upstream's usage is what is charged.
   */
  static long countPrompt(JsonNode root, TokenCounter tokens) {
    long n = 3;
    JsonNode instructions = root.path("instructions");
    if (instructions.isTextual()) {
      n += tokens.count(instructions.asText()) + 3;
    }
    JsonNode input = root.path("input");
    if (input.isTextual()) {
      n += 3 + tokens.count(input.asText());
    }
    for (JsonNode item : input.isArray() ? input : List.<JsonNode>of()) {
      n += 3 + countTexts(item, tokens);
    }
    for (JsonNode tool : root.path("tools")) {
      n += tokens.count(tool.toString());
    }
    return n;
  }

  private static long countTexts(JsonNode node, TokenCounter tokens) {
    if (node.isTextual()) {
      String s = node.asText();
      return s.startsWith("data:") ? 0 : tokens.count(s);
    }
    long n = 0;
    if (node.isObject()) {
      for (String field : List.of("text", "content", "arguments", "output", "name", "refusal")) {
        n += countTexts(node.path(field), tokens);
      }
    } else if (node.isArray()) {
      for (JsonNode child : node) {
        n += countTexts(child, tokens);
      }
    }
    return n;
  }
}
