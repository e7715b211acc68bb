package io.sluice.node.provider.openai;

import static io.sluice.node.provider.openai.JsonFields.present;
import static io.sluice.node.provider.openai.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.node.inference.chat.InvalidChat;
import io.sluice.node.inference.chat.Tool;
import io.sluice.node.inference.chat.ToolChoice;
import java.util.ArrayList;
import java.util.List;

/** Reads a chat request's {@code tools} and {@code tool_choice}: functions only, as the neutral model has them. */
final class ToolsReader {
  private ToolsReader() {}

  static List<Tool> tools(JsonNode tools) throws InvalidChat {
    if (!present(tools)) {
      return List.of();
    }
    if (!tools.isArray()) {
      throw new InvalidChat("'tools' must be an array.", "tools");
    }
    List<Tool> out = new ArrayList<>(tools.size());
    for (int i = 0; i < tools.size(); i++) {
      JsonNode tool = tools.get(i);
      String at = "tools." + i;
      if (!tool.isObject()) {
        throw new InvalidChat("Each tool must be an object.", at);
      }
      String type = text(tool.get("type"), at + ".type");
      if (type != null && !type.equals("function")) {
        throw new InvalidChat("Tool type '" + type + "' cannot be translated; only 'function'.", at + ".type");
      }
      JsonNode function = tool.get("function");
      if (function == null || !function.isObject()) {
        throw new InvalidChat("'function' must be an object.", at + ".function");
      }
      String name = text(function.get("name"), at + ".function.name");
      if (name == null) {
        throw new InvalidChat("'name' is required.", at + ".function.name");
      }
      JsonNode parameters = function.get("parameters");
      if (present(parameters) && !parameters.isObject()) {
        throw new InvalidChat("'parameters' must be a JSON Schema object.", at + ".function.parameters");
      }
      out.add(new Tool(name, text(function.get("description"), at + ".function.description"),
          present(parameters) ? parameters : null));
    }
    return out;
  }

  static ToolChoice toolChoice(JsonNode choice) throws InvalidChat {
    if (!present(choice)) {
      return null;
    }
    if (choice.isTextual()) {
      return switch (choice.textValue()) {
        case "auto" -> ToolChoice.AUTO;
        case "none" -> ToolChoice.NONE;
        case "required" -> ToolChoice.REQUIRED;
        default -> throw new InvalidChat("'tool_choice' must be 'auto', 'none', 'required' or a named function.",
            "tool_choice");
      };
    }
    if (choice.isObject() && "function".equals(choice.path("type").textValue())) {
      String name = text(choice.path("function").get("name"), "tool_choice.function.name");
      if (name == null) {
        throw new InvalidChat("'tool_choice.function.name' is required.", "tool_choice.function.name");
      }
      return ToolChoice.named(name);
    }
    throw new InvalidChat("'tool_choice' must be 'auto', 'none', 'required' or {\"type\":\"function\",...}.",
        "tool_choice");
  }
}
